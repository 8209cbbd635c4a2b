import type { ConverterLimits } from '@tbi/plugin-api';
import type { EncodedBatch, RawOutcome } from './batch-codec.js';
import type { CallResult, IsolateSlot } from './isolate-slot.js';

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
  return { ok: false, error: { kind: 'THREW', message: `the sandbox failed: ${message}` }, logs: [] };
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
 */
export async function runOnSlot<I>(
  slot: IsolateSlot,
  inputs: readonly I[],
  encode: (inputs: readonly I[]) => EncodedBatch,
  limits: ConverterLimits,
): Promise<RawOutcome[]> {
  const results: RawOutcome[] = [];
  let start = 0;
  while (start < inputs.length) {
    const rest = inputs.slice(start);
    const result = await slot.call(encode(rest), rest.length);
    if (result.status === 'ok') {
      results.push(...result.outcomes);
      break;
    }
    if (result.status === 'timeout' && rest.length > 1) {
      results.push(...result.done);
      const culprit = start + result.index;
      results.push(await runOne(slot, inputs[culprit] as I, encode, limits));
      start = culprit + 1;
      continue;
    }
    if (rest.length === 1) {
      results.push(single(result, limits));
      break;
    }
    for (const input of rest) results.push(await runOne(slot, input, encode, limits));
    break;
  }
  return results;
}

async function runOne<I>(
  slot: IsolateSlot,
  input: I,
  encode: (inputs: readonly I[]) => EncodedBatch,
  limits: ConverterLimits,
): Promise<RawOutcome> {
  return single(await slot.call(encode([input]), 1), limits);
}

function single(result: CallResult, limits: ConverterLimits): RawOutcome {
  switch (result.status) {
    case 'ok':
      return result.outcomes[0] as RawOutcome;
    case 'timeout':
    case 'timeout-after':
      return timeoutOutcome(limits);
    case 'memory':
      return memoryOutcome(limits);
    case 'crashed':
      return crashedOutcome(result.message);
  }
}
