import { api, enc } from '../api.js';
import { codeBlock, fill, h, notice, time } from '../dom.js';
import type { Page } from '../main.js';
import { payloadView, type PayloadView } from '../payload-view.js';
import { integrationPicker } from './integration-picker.js';

interface DeadLetter {
  id: number;
  integration: string;
  createdAt: number;
  attempts: number;
  error: { kind: string; message: string; path?: string };
  metadata: Record<string, string>;
  payload: PayloadView;
}

interface Report {
  selected: number;
  stored: number;
  failed: number;
  skipped: number;
  notRunning: string[];
}

function describe(r: Report): string {
  return `${r.selected} selected: ${r.stored} stored, ${r.failed} failed again, ${r.skipped} skipped${r.notRunning.length ? ` (not running: ${r.notRunning.join(', ')})` : ''}`;
}

/** The host's dead letters: reason and error, the whole letter, replay one or all, purge. */
export const deadLettersPage: Page = (root, [name]) => {
  const message = h('div', { 'aria-live': 'polite' });
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Dead letters'), message);
  const body = h('tbody');
  const total = h('span', { class: 'muted' });
  const detail = h('div', { class: 'letter-detail' });
  const filter = name ? `?integration=${enc(name)}&limit=200` : '?limit=200';

  const load = async () => {
    try {
      const page = await api<{ total: number; items: DeadLetter[] }>(`/api/dead-letters${filter}`);
      total.textContent = `${page.total} dead letter(s)${name ? ` of ${name}` : ''}`;
      fill(body, ...page.items.map(row));
      if (page.items.length === 0) fill(body, h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No dead letters.')));
    } catch (e) {
      notice(message, (e as Error).message, 'bad');
    }
  };
  const replay = async (body: { integration?: string; ids?: number[] }) => {
    try {
      notice(message, `replay: ${describe(await api<Report>('/api/dead-letters/replay', 'POST', body))}`);
    } catch (e) {
      notice(message, (e as Error).message, 'bad');
    }
    fill(detail);
    await load();
  };
  const show = async (id: number) => {
    try {
      const letter = await api<DeadLetter>(`/api/dead-letters/${id}`);
      fill(
        detail,
        h(
          'section',
          { class: 'card', 'aria-label': `dead letter ${id}` },
          h('h2', {}, `Dead letter ${id} · ${letter.integration}`),
          h('p', { class: 'error' }, `${letter.error.kind}: ${letter.error.message}`, letter.error.path ? ` (at ${letter.error.path})` : ''),
          h('h3', {}, 'Payload'),
          payloadView(letter.payload),
          h('h3', {}, 'Metadata'),
          codeBlock(letter.metadata),
        ),
      );
    } catch (e) {
      notice(message, (e as Error).message, 'bad');
    }
  };
  const remove = async (id: number) => {
    try {
      await api(`/api/dead-letters/${id}`, 'DELETE');
      notice(message, `deleted dead letter ${id}`);
    } catch (e) {
      notice(message, (e as Error).message, 'bad');
    }
    await load();
  };
  const row = (l: DeadLetter) =>
    h(
      'tr',
      { 'data-letter-id': String(l.id) },
      h('td', {}, String(l.id)),
      h('td', {}, l.integration),
      h('td', {}, time(l.createdAt)),
      h('td', {}, String(l.attempts)),
      h('td', { class: 'clip' }, h('strong', {}, l.error.kind), ` ${l.error.message}`, l.error.path ? h('code', {}, ` ${l.error.path}`) : ''),
      h(
        'td',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => void show(l.id) }, 'Show'),
        h('button', { type: 'button', onclick: () => void replay({ ids: [l.id] }) }, 'Replay'),
        h('button', { type: 'button', class: 'danger', onclick: () => void remove(l.id) }, 'Delete'),
      ),
    );
  const purge = async () => {
    if (!confirm(`Delete every dead letter${name ? ` of ${name}` : ''}? They cannot be replayed afterwards.`)) return;
    try {
      const r = await api<{ deleted: number }>(`/api/dead-letters${name ? `?integration=${enc(name)}` : ''}`, 'DELETE');
      notice(message, `purged ${r.deleted} dead letter(s)`);
    } catch (e) {
      notice(message, (e as Error).message, 'bad');
    }
    await load();
  };

  fill(
    root,
    head,
    h(
      'div',
      { class: 'toolbar' },
      total,
      h('button', { type: 'button', class: 'primary', onclick: () => void replay(name ? { integration: name } : {}) }, 'Replay all'),
      h('button', { type: 'button', class: 'danger', onclick: purge }, 'Purge'),
      h('button', { type: 'button', onclick: () => void load() }, 'Refresh'),
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h('table', {}, h('thead', {}, h('tr', {}, ...['Id', 'Integration', 'Time', 'Attempts', 'Error', ''].map((t) => h('th', { scope: 'col' }, t)))), body),
    ),
    detail,
  );
  integrationPicker(name, (picked) => (location.hash = picked ? `#/dead-letters/${enc(picked)}` : '#/dead-letters'), { allowAll: true })
    .then((picker) => head.appendChild(picker))
    .catch(() => undefined);
  void load();
  return undefined;
};
