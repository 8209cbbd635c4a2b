import v8 from 'node:v8';
import type { ConverterFailure } from '@tbi/plugin-api';

/**
 * Serialises a batch's results for the host, failing the largest ones with INVALID_OUTPUT until
 * the whole reply fits in `maxBytes`: a converter returning huge results must run out of room in
 * its own process, not make the host receive (and hold twice) hundreds of megabytes.
 */
export function fitReply(results: unknown[], maxBytes: number): Uint8Array {
  const whole = v8.serialize(results);
  if (whole.byteLength <= maxBytes) return whole;
  const sizes = results.map((r, i) => ({ i, bytes: v8.serialize(r).byteLength }));
  sizes.sort((a, b) => b.bytes - a.bytes);
  let total = whole.byteLength;
  const fitted = [...results];
  for (const { i, bytes } of sizes) {
    if (total <= maxBytes) break;
    const error: ConverterFailure = {
      kind: 'INVALID_OUTPUT',
      message: `the result is ${bytes} bytes, too large to hand over (the results of one batch may take at most ${maxBytes} bytes)`,
    };
    fitted[i] = { ok: false, error, logs: [] };
    total -= bytes;
  }
  return v8.serialize(fitted);
}
