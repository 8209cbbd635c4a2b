/**
 * Reads a request body as bytes, refusing it as soon as it grows past `maxBytes` (and without
 * reading at all when `Content-Length` already says so), so a huge upload cannot fill memory.
 * Returns `undefined` when the body is too large.
 */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array | undefined> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (Number(declared) > maxBytes) return undefined;
    // Node's HTTP parser delivers exactly Content-Length bytes, so the limit already holds; and
    // `arrayBuffer()` lets @hono/node-server read the socket directly, where `body` first builds a
    // full Fetch `Request` and a web stream (the largest per-request cost in the profile).
    const body = new Uint8Array(await request.arrayBuffer());
    return body.byteLength > maxBytes ? undefined : body; // a Request built in process may declare less than it has
  }
  // Chunked (no length): read as a stream, so an endless upload is cut off at the limit.
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
