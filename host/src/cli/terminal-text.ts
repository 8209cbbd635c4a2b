// C0 controls (`keepLayout` spares tab and newline), DEL, C1 controls, and the
// bidirectional embeddings, overrides and isolates that reorder what a reader sees.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_KEEPING_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Makes text that came from a message (payload, metadata, converter errors, names) safe to print
 * in a terminal: control characters, DEL and bidi controls become visible escapes (`\x1b`,
 * `\u202e`), so a payload cannot set the window title, move the cursor or reorder a line.
 * `keepLayout` keeps tabs and newlines (a multi-line payload shown whole).
 *
 * @example
 * terminalSafe('\x1b]0;pwned\x07ok') // '\\x1b]0;pwned\\x07ok'
 */
export function terminalSafe(text: string, options: { keepLayout?: boolean } = {}): string {
  return text.replace(options.keepLayout ? UNSAFE_KEEPING_LAYOUT : UNSAFE, escapeChar);
}
