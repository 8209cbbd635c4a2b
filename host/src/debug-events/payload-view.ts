/** A payload as shown in debug events and dead letters: Base64 always, text when it is text. */
export interface PayloadView {
  /** Size of the whole payload in bytes. */
  size: number;
  /** Base64 of the payload, or of its first `maxBytes` when `truncated`. */
  base64: string;
  /** UTF-8 text of the same bytes, when they are valid UTF-8 without control characters. */
  text?: string;
  truncated: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
// Control characters other than tab, newline and carriage return mark a binary payload.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function asText(bytes: Uint8Array): string | undefined {
  try {
    const text = decoder.decode(bytes);
    return CONTROL.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

/**
 * Describes a payload for humans and JSON APIs, keeping at most `maxBytes` of it so a ring of
 * debug events stays small whatever the messages weigh.
 */
export function viewPayload(payload: Uint8Array, maxBytes = 64 * 1024): PayloadView {
  const truncated = payload.byteLength > maxBytes;
  const bytes = truncated ? payload.subarray(0, maxBytes) : payload;
  let text = asText(bytes);
  // A cut may split a multi-byte character: retry without the last (at most 3) bytes.
  for (let cut = 1; text === undefined && truncated && cut <= 3 && cut < bytes.byteLength; cut++) {
    text = asText(bytes.subarray(0, bytes.byteLength - cut));
  }
  const view: PayloadView = { size: payload.byteLength, base64: Buffer.from(bytes).toString('base64'), truncated };
  if (text !== undefined) view.text = text;
  return view;
}
