import { describe, expect, it } from 'vitest';
import { readBody } from './read-body.js';

function streamed(parts: string[]): Request {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of parts) controller.enqueue(enc.encode(p));
      controller.close();
    },
  });
  return new Request('http://x/', { method: 'POST', body, duplex: 'half' } as RequestInit);
}

describe('readBody', () => {
  it('returns the exact bytes of a body in one or many chunks', async () => {
    const bytes = new Uint8Array([0, 255, 1, 128]);
    expect(await readBody(new Request('http://x/', { method: 'POST', body: bytes }), 10)).toEqual(bytes);
    expect(new TextDecoder().decode(await readBody(streamed(['ab', 'cd', 'ef']), 6))).toBe('abcdef');
  });

  it('returns an empty array for a request without a body', async () => {
    expect(await readBody(new Request('http://x/', { method: 'POST' }), 10)).toEqual(new Uint8Array(0));
  });

  it('reads a body of a declared length at once, and refuses one larger than it declared', async () => {
    const declared = new Request('http://x/', { method: 'POST', body: 'abcdef', headers: { 'content-length': '6' } });
    expect(new TextDecoder().decode(await readBody(declared, 6))).toBe('abcdef');
    // Node's parser never delivers more than Content-Length; a Request built in process can.
    const understated = new Request('http://x/', { method: 'POST', body: 'x'.repeat(11), headers: { 'content-length': '5' } });
    expect(await readBody(understated, 10)).toBeUndefined();
  });

  it('refuses by Content-Length before reading, and by counting when it is absent', async () => {
    const declared = new Request('http://x/', { method: 'POST', body: 'x'.repeat(11), headers: { 'content-length': '11' } });
    expect(await readBody(declared, 10)).toBeUndefined();
    expect(await readBody(streamed(['12345', '67890', '1']), 10)).toBeUndefined();
  });
});
