import { enc, storedToken, api } from '../api.js';
import { devicesOf, failed, recentEvents, type DebugEvent } from '../debug-event.js';
import { badge, codeBlock, fill, h, notice, time, toneOf } from '../dom.js';
import type { Page } from '../main.js';
import { payloadView } from '../payload-view.js';
import { integrationPicker } from './integration-picker.js';

/** Rows the table keeps; older ones fall off the bottom. */
const MAX_ROWS = 300;

function summary(event: DebugEvent): string {
  const p = event.in.payload;
  const text = p ? (p.text ?? `${p.size} bytes binary`) : JSON.stringify(event.in.msg ?? '');
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function timings(event: DebugEvent): string {
  const t = event.timings;
  return [
    t.convertMs !== undefined && `convert ${t.convertMs} ms`,
    t.storeMs !== undefined && `store ${t.storeMs} ms`,
    t.sendMs !== undefined && `send ${t.sendMs} ms`,
  ]
    .filter(Boolean)
    .join(' · ');
}

function eventDetail(event: DebugEvent): HTMLElement {
  return h(
    'div',
    { class: 'event-detail' },
    h('section', {}, h('h3', {}, 'In'), event.in.payload ? payloadView(event.in.payload) : codeBlock({ msgType: event.in.msgType, msg: event.in.msg })),
    h('section', {}, h('h3', {}, 'Metadata'), codeBlock(event.in.metadata)),
    h('section', {}, h('h3', {}, 'Out'), codeBlock(event.out)),
    event.error
      ? h(
          'section',
          { class: 'error' },
          h('h3', {}, 'Error'),
          h('p', {}, `${event.error.kind ?? 'error'}: ${event.error.message}`, event.error.path ? ` (at ${event.error.path})` : ''),
        )
      : null,
    event.logs.length ? h('section', {}, h('h3', {}, 'Logs'), codeBlock(event.logs.map((l) => `[${l.level}] ${l.message}`).join('\n'))) : null,
    h(
      'p',
      { class: 'muted' },
      timings(event),
      ' ',
      h('a', { href: `#/editor/${enc(event.integration)}/${event.type}/${event.id}` }, 'Open in the converter editor with this event'),
    ),
  );
}

/**
 * Debug events of one integration, live over the SSE stream (`?token=`: EventSource sends no
 * headers), like ThingsBoard's debug events table: filters, pause, and each event's In, Out,
 * metadata, error and timings, with payloads as JSON, text or hex.
 */
export const eventsPage: Page = (root, [name]) => {
  const message = h('div', { 'aria-live': 'polite' });
  fill(root, h('div', { class: 'page-head' }, h('h1', {}, 'Live events'), message));
  let source: EventSource | undefined;
  let stopped = false;
  integrationPicker(name, (picked) => (location.hash = `#/events/${enc(picked)}`))
    .then((picker) => {
      if (stopped) return;
      root.querySelector('.page-head')!.appendChild(picker);
      if (name) start(name);
    })
    .catch((e: Error) => notice(message, e.message, 'bad'));

  const start = (integration: string) => {
    const events: DebugEvent[] = [];
    /** Events whose details are open: a redraw (filter, resume) keeps them open. */
    const expanded = new Set<number>();
    let paused = false;
    let missed = 0;
    const failuresOnly = h('input', { type: 'checkbox', id: 'f-failures' });
    const device = h('input', { type: 'search', id: 'f-device', placeholder: 'device' });
    const text = h('input', { type: 'search', id: 'f-text', placeholder: 'text in payload, output or error' });
    const mode = h('select', { id: 'debug-mode' }, ...['failures', 'all', 'off'].map((m) => h('option', { value: m }, m)));
    const pause = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Pause');
    const state = h('span', { class: 'muted', 'aria-live': 'polite' });
    const body = h('tbody');
    const table = h(
      'table',
      { class: 'events' },
      h('thead', {}, h('tr', {}, ...['Time', 'Type', 'Status', 'Device', 'In', 'Timings'].map((t) => h('th', { scope: 'col' }, t)))),
      body,
    );
    const visible = (e: DebugEvent) => {
      if (failuresOnly.checked && !failed(e)) return false;
      const d = device.value.trim().toLowerCase();
      if (d && !devicesOf(e).some((n) => n.toLowerCase().includes(d))) return false;
      const t = text.value.trim().toLowerCase();
      return !t || JSON.stringify([e.in, e.out, e.error, e.logs]).toLowerCase().includes(t);
    };
    const row = (e: DebugEvent): HTMLElement[] => {
      const detail = h('tr', { class: 'detail-row', hidden: !expanded.has(e.id) }, h('td', { colspan: '6' }, eventDetail(e)));
      const toggle = h('button', { type: 'button', class: 'link', 'aria-expanded': String(expanded.has(e.id)) }, time(e.time));
      toggle.addEventListener('click', () => {
        detail.hidden = !detail.hidden;
        if (detail.hidden) expanded.delete(e.id);
        else expanded.add(e.id);
        toggle.setAttribute('aria-expanded', String(!detail.hidden));
      });
      const tr = h(
        'tr',
        { 'data-event-id': String(e.id), class: failed(e) ? 'failed' : '' },
        h('td', {}, toggle),
        h('td', {}, e.type),
        h('td', {}, badge(e.status, toneOf(e.status))),
        h('td', {}, devicesOf(e).join(', ') || '—'),
        h('td', { class: 'mono clip' }, e.error ? `${e.error.message}` : summary(e)),
        h('td', { class: 'muted' }, timings(e)),
      );
      return [tr, detail];
    };
    const redraw = () => {
      fill(body, ...events.filter(visible).flatMap(row));
      state.textContent = `${events.length} events${paused ? ` · paused (${missed} new)` : ''}`;
    };
    const add = (e: DebugEvent) => {
      if (events.some((x) => x.id === e.id)) return;
      events.unshift(e);
      if (events.length > MAX_ROWS) events.pop();
      if (paused) missed++;
      else if (visible(e)) body.prepend(...row(e));
      state.textContent = `${events.length} events${paused ? ` · paused (${missed} new)` : ''}`;
    };
    for (const input of [failuresOnly, device, text]) input.addEventListener('input', redraw);
    pause.addEventListener('click', () => {
      paused = !paused;
      pause.setAttribute('aria-pressed', String(paused));
      pause.textContent = paused ? 'Resume' : 'Pause';
      missed = 0;
      redraw();
    });
    mode.addEventListener('change', () => {
      api(`/api/integrations/${enc(integration)}/debug`, 'PUT', { mode: mode.value })
        .then(() => notice(message, `debug mode of ${integration}: ${mode.value}`))
        .catch((e: Error) => notice(message, e.message, 'bad'));
    });
    root.append(
      h(
        'div',
        { class: 'toolbar' },
        h('label', { for: 'debug-mode' }, 'Record'),
        mode,
        h('label', { class: 'check' }, failuresOnly, 'failures only'),
        h('label', { class: 'sr-only', for: 'f-device' }, 'device'),
        device,
        h('label', { class: 'sr-only', for: 'f-text' }, 'text'),
        text,
        pause,
        state,
      ),
      h('div', { class: 'table-wrap' }, table),
    );
    api<{ mode: string }>(`/api/integrations/${enc(integration)}/debug`)
      .then((d) => (mode.value = d.mode))
      .catch(() => undefined);
    // The stream first, then the recent events: nothing falls between the two (add() skips repeats).
    let early: DebugEvent[] | undefined = [];
    source = new EventSource(`/api/integrations/${enc(integration)}/events/stream?token=${enc(storedToken() ?? '')}`);
    source.onmessage = (m) => {
      const event = JSON.parse(m.data as string) as DebugEvent;
      if (early) early.push(event);
      else add(event);
    };
    source.onopen = () => notice(message, `live: ${integration}`);
    source.onerror = () => notice(message, 'stream interrupted; reconnecting…', 'bad');
    recentEvents(integration, 100)
      .then((list) => {
        for (const e of list.reverse()) add(e);
      })
      .catch((e: Error) => notice(message, e.message, 'bad'))
      .finally(() => {
        for (const e of early ?? []) add(e);
        early = undefined;
      });
  };

  return () => {
    stopped = true;
    source?.close();
  };
};
