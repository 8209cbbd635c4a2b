import { h } from './dom.js';

/** A payload as the API sends it (debug events, dead letters). */
export interface PayloadView {
  size: number;
  base64: string;
  text?: string;
  truncated: boolean;
}

export type PayloadFormat = 'json' | 'text' | 'hex';

export function bytesOf(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** Classic hex dump: offset, 16 bytes, printable ASCII. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(6, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}

function render(view: PayloadView, format: PayloadFormat): string {
  if (format === 'hex') return hexDump(bytesOf(view.base64));
  if (view.text === undefined) return '(binary: not text; see hex)';
  if (format === 'json') {
    try {
      return JSON.stringify(JSON.parse(view.text), null, 2);
    } catch {
      return '(not JSON; see text)';
    }
  }
  return view.text;
}

/** The format a payload reads best in: JSON when it parses, else text, else hex. */
export function bestFormat(view: PayloadView): PayloadFormat {
  if (view.text === undefined) return 'hex';
  try {
    JSON.parse(view.text);
    return 'json';
  } catch {
    return 'text';
  }
}

/** A payload with JSON / Text / Hex buttons (a toolbar: arrow keys are not needed, Tab reaches each). */
export function payloadView(view: PayloadView): HTMLElement {
  const pre = h('pre', { class: 'code payload' });
  const buttons = (['json', 'text', 'hex'] as const).map((format) =>
    h('button', { type: 'button', class: 'seg', 'data-format': format, onclick: () => show(format) }, format.toUpperCase()),
  );
  const show = (format: PayloadFormat) => {
    pre.textContent = render(view, format);
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.format === format));
  };
  show(bestFormat(view));
  const size = `${view.size} bytes${view.truncated ? ' (truncated)' : ''}`;
  return h(
    'div',
    { class: 'payload-view' },
    h('div', { class: 'seg-group', role: 'group', 'aria-label': 'payload format' }, ...buttons, h('span', { class: 'muted' }, size)),
    pre,
  );
}
