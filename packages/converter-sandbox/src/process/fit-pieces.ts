import type { RawOutcome } from '../batch-codec.js';
import { settle, type Piece } from '../run-batch.js';

/**
 * Keeps a batch's reply to the host within `maxChars` (of result text): a converter returning
 * huge results must run out of room in its own process, not make the host receive and hold
 * hundreds of megabytes. Over the limit, the largest outputs fail with INVALID_OUTPUT until the
 * rest fits. (Each output is also capped inside the isolate, at MAX_OUTPUT_CHARS.)
 */
export function fitPieces(pieces: Piece[], maxChars: number): Piece[] {
  let total = 0;
  for (const piece of pieces) total += 'text' in piece ? piece.text.length : JSON.stringify(piece.outcomes).length;
  if (total <= maxChars) return pieces;
  const outcomes = settle(pieces);
  const sizes = outcomes.map((o, i) => ({ i, chars: o.ok ? (JSON.stringify(o.output) ?? '').length : 0 })).sort((a, b) => b.chars - a.chars);
  const fitted: RawOutcome[] = [...outcomes];
  for (const { i, chars } of sizes) {
    if (total <= maxChars) break;
    fitted[i] = {
      ok: false,
      error: {
        kind: 'INVALID_OUTPUT',
        message: `the output is ${chars} characters of JSON, too large to hand over (the outputs of one batch may take at most ${maxChars})`,
      },
      logs: [],
    };
    total -= chars;
  }
  return [{ outcomes: fitted }];
}
