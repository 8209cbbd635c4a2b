/** One Server-Sent Event. */
export interface ServerSentEvent {
  /** `event:` field; `message` when absent. */
  event: string;
  data: string;
  id?: string;
}

/**
 * Reads Server-Sent Events from a response body as they arrive (comments and heartbeats are
 * skipped), following the WHATWG event-stream rules for `data`, `event` and `id` lines.
 *
 * @example
 * for await (const e of readServerSentEvents(response.body!)) console.log(e.data);
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split(/\r\n|\r|\n/);
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), ...(id === undefined ? {} : { id }) };
        data = [];
        event = '';
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id') id = value;
    }
  }
}
