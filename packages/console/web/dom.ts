/** Children `h` accepts: nodes, text, and nothing (skipped). */
export type Child = Node | string | number | false | null | undefined;

type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

/**
 * Makes an element: `h('button', { class: 'primary', onclick: go }, 'Start')`. Attributes named
 * `on…` become listeners; `true` sets a boolean attribute, `false`/`undefined` leaves it out.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children, skipping empty ones. */
export function append(el: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** `12:03:04.123` for today, else the date too. */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const clock = `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
  return d.toDateString() === new Date().toDateString() ? clock : `${d.toLocaleDateString()} ${clock}`;
}

/** JSON for humans: two-space indent, `undefined` as an em dash. */
export function pretty(value: unknown): string {
  return value === undefined ? '—' : JSON.stringify(value, null, 2);
}

/** A `<pre>` of a value. */
export function codeBlock(value: unknown, label?: string): HTMLElement {
  return h('pre', { class: 'code', ...(label ? { 'aria-label': label } : {}) }, typeof value === 'string' ? value : pretty(value));
}

/** A coloured badge: ok (green), warn (amber), bad (red) or plain. */
export function badge(text: string, tone: 'ok' | 'warn' | 'bad' | 'plain' = 'plain'): HTMLElement {
  return h('span', { class: `badge ${tone}` }, text);
}

/** The tone of a state, health or event status word. */
export function toneOf(word: string): 'ok' | 'warn' | 'bad' | 'plain' {
  if (['up', 'running', 'stored', 'sent', 'replied', 'delivered', 'ok'].includes(word)) return 'ok';
  if (['degraded', 'starting', 'stopping', 'queued'].includes(word)) return 'warn';
  if (['down', 'failed', 'dead-lettered', 'expired'].includes(word)) return 'bad';
  return 'plain';
}

/** A one-line notice in `el` (role=status), replaced by the next one. */
export function notice(el: Element, text: string, tone: 'ok' | 'bad' = 'ok'): void {
  fill(el, h('p', { class: `notice ${tone}`, role: tone === 'bad' ? 'alert' : 'status' }, text));
}
