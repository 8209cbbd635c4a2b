import { describe, expect, it } from 'vitest';
import { readServerSentEvents } from './sse-reader.js';

function body(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

describe('readServerSentEvents', () => {
  it('joins data lines, keeps ids and event names, skips comments, and survives chunks cut anywhere', async () => {
    const events = [];
    for await (const e of readServerSentEvents(
      body(': hello\n\nid: 1\nda', 'ta: {"a":\ndata: 1}\n\n: ping\n\nevent: dropped\r\ndata: {"dropped":2}\r\n\r\n', 'data: unterminated'),
    )) {
      events.push(e);
    }
    expect(events).toEqual([
      { event: 'message', data: '{"a":\n1}', id: '1' },
      { event: 'dropped', data: '{"dropped":2}', id: '1' },
    ]);
  });
});
