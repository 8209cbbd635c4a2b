import type { ConverterLimits } from '@tbi/plugin-api';
import { decodeBatchText, type EncodedBatch, type RawOutcome } from './batch-codec.js';
import type { CallResult, IsolateSlot } from './isolate-slot.js';

/**
 * Part of a batch's outcomes: decoded, or the text of a finished call not decoded yet. Decoding
 * is host work that needs no isolate, so the pool decodes after the isolate went to its next call.
 */
export type Piece = { outcomes: RawOutcome[] } | { text: string; count: number };

const MALFORMED = 'the sandbox runtime returned a malformed result';

/** The outcomes of the pieces, in order. */
export function settle(pieces: readonly Piece[]): RawOutcome[] {
  if (pieces.length === 1) return settleOne(pieces[0] as Piece);
  const outcomes: RawOutcome[] = [];
  for (const piece of pieces) for (const outcome of settleOne(piece)) outcomes.push(outcome);
  return outcomes;
}

function settleOne(piece: Piece): RawOutcome[] {
  if ('outcomes' in piece) return piece.outcomes;
  // The runtime writes this text with built-ins captured before any user code: it is malformed
  // only if the runtime has a bug, so the messages fail rather than run again.
  return (
    decodeBatchText(piece.text, piece.count) ??
    Array.from({ length: piece.count }, (): RawOutcome => ({ ok: false, error: { kind: 'THREW', message: MALFORMED }, logs: [] }))
  );
}

/** Decodes a finished call's text now; null when it is malformed. */
function decodeNow(result: Extract<CallResult, { status: 'ok' }>, count: number): RawOutcome[] | null {
  return decodeBatchText(result.text, count);
}

function timeoutOutcome(limits: ConverterLimits): RawOutcome {
  return {
    ok: false,
    error: {
      kind: 'TIMEOUT',
      message: `the converter ran longer than its limit of ${limits.timeoutMs} ms on this message and was stopped (infinite loop?); its isolate was rebuilt`,
    },
    logs: [],
  };
}

function memoryOutcome(limits: ConverterLimits): RawOutcome {
  return {
    ok: false,
    error: {
      kind: 'MEMORY',
      message: `the converter needed more than its limit of ${limits.memoryMb} MiB of memory on this message and was stopped; its isolate was rebuilt`,
    },
    logs: [],
  };
}

function crashedOutcome(message: string): RawOutcome {
  // isolated-vm rejects dynamic import() by failing the whole call with this text.
  const text = message === 'Not supported' ? 'import() is not available in converters' : `the sandbox failed: ${message}`;
  return { ok: false, error: { kind: 'THREW', message: text }, logs: [] };
}

/**
 * Runs messages on one isolate, one call for the whole batch when all goes well. The time limit
 * applies to each call; when a call is stopped:
 *
 * - by the time limit while converting message k: the results of the messages before k are kept,
 *   message k is retried alone on a fresh isolate (it fails with TIMEOUT only if it alone exceeds
 *   the limit), and the messages after k go on as a new batch. So only the culprit fails.
 * - by the time limit after the loop (promise jobs), or by the memory limit: the messages are
 *   retried one call each on fresh isolates, so again only the culprits fail.
 *
 * `encoded` is `inputs` already encoded (the pool encodes while it waits for an isolate). The
 * text of a call that went well is left undecoded in the pieces: see `settle`.
 */
export async function runOnSlot<I>(
  slot: IsolateSlot,
  inputs: readonly I[] | LazyInputs<I>,
  encode: (inputs: readonly I[]) => EncodedBatch,
  limits: ConverterLimits,
  encoded?: EncodedBatch,
): Promise<Piece[]> {
  const pieces: Piece[] = [];
  // A converter process hands over a batch already encoded; it decodes the messages only when
  // some must run again.
  const count = Array.isArray(inputs) ? inputs.length : (inputs as LazyInputs<I>).count;
  let list = Array.isArray(inputs) ? (inputs as readonly I[]) : undefined;
  const all = (): readonly I[] => (list ??= (inputs as LazyInputs<I>).decode());
  let start = 0;
  let first = encoded;
  while (start < count) {
    const restCount = count - start;
    const rest = () => (start === 0 ? all() : all().slice(start));
    const result = await slot.call(first ?? encode(rest()), restCount);
    first = undefined;
    if (result.status === 'ok' && !result.tainted) {
      pieces.push({ text: result.text, count: restCount });
      break;
    }
    const outcomes = result.status === 'ok' ? decodeNow(result, restCount) : null;
    if (outcomes !== null) {
      pieces.push({ outcomes: await rerunTainted(slot, rest(), outcomes, encode, limits) });
      break;
    }
    if (result.status === 'timeout' && restCount > 1) {
      pieces.push({ outcomes: await rerunTainted(slot, rest(), result.done, encode, limits) });
      const culprit = start + result.index;
      pieces.push({ outcomes: [await runOne(slot, all()[culprit] as I, encode, limits)] });
      start = culprit + 1;
      continue;
    }
    if (restCount === 1) {
      const outcome = single(result, limits);
      pieces.push({ outcomes: [!outcome.ok && outcome.retry ? await runOne(slot, rest()[0] as I, encode, limits) : outcome] });
      break;
    }
    const each: RawOutcome[] = [];
    for (const input of rest()) each.push(await runOne(slot, input, encode, limits));
    pieces.push({ outcomes: each });
    break;
  }
  return pieces;
}

/** Messages of an encoded batch, decoded on demand (see `runOnSlot`). */
export interface LazyInputs<I> {
  count: number;
  decode(): readonly I[];
}

/**
 * Messages the runtime could not even prepare because an earlier message broke built-ins run
 * again on the fresh isolate the slot now has. The first of them is prepared before any user
 * code runs there, so every round makes progress.
 */
async function rerunTainted<I>(
  slot: IsolateSlot,
  inputs: readonly I[],
  outcomes: RawOutcome[],
  encode: (inputs: readonly I[]) => EncodedBatch,
  limits: ConverterLimits,
): Promise<RawOutcome[]> {
  const again = outcomes.flatMap((o, i) => (!o.ok && o.retry ? [i] : []));
  if (again.length === 0) return outcomes;
  const rerun = settle(
    await runOnSlot(
      slot,
      again.map((i) => inputs[i] as I),
      encode,
      limits,
    ),
  );
  const merged = [...outcomes];
  for (const [j, index] of again.entries()) merged[index] = rerun[j] as RawOutcome;
  return merged;
}

async function runOne<I>(slot: IsolateSlot, input: I, encode: (inputs: readonly I[]) => EncodedBatch, limits: ConverterLimits): Promise<RawOutcome> {
  const outcome = single(await slot.call(encode([input]), 1), limits);
  // A tainted isolate is replaced after the call that found it, so a second try is clean.
  if (!outcome.ok && outcome.retry) return single(await slot.call(encode([input]), 1), limits);
  return outcome;
}

function single(result: CallResult, limits: ConverterLimits): RawOutcome {
  switch (result.status) {
    case 'ok':
      return decodeNow(result, 1)?.[0] ?? crashedOutcome('the sandbox runtime returned a malformed result');
    case 'timeout':
    case 'timeout-after':
      return timeoutOutcome(limits);
    case 'memory':
      return memoryOutcome(limits);
    case 'crashed':
      return crashedOutcome(result.message);
  }
}
