import { api, enc } from '../api.js';
import { TimeChart } from '../chart.js';
import { codeBlock, fill, h, notice, time } from '../dom.js';
import type { Page } from '../main.js';

interface Device {
  name: string;
  type: string;
  integration: string | null;
  lastSeen: number;
}

const RANGES: Array<[string, number]> = [
  ['15 min', 15 * 60_000],
  ['1 hour', 3_600_000],
  ['24 hours', 86_400_000],
  ['7 days', 7 * 86_400_000],
];

function deviceView(root: HTMLElement, name: string, message: HTMLElement): () => void {
  const latest = h('tbody');
  const attributes = h('div', { class: 'attributes' });
  const keySelect = h('select', { id: 'chart-key' });
  const range = h(
    'select',
    { id: 'chart-range' },
    ...RANGES.map(([label, ms]) => h('option', { value: String(ms), ...(ms === 3_600_000 ? { selected: true } : {}) }, label)),
  );
  const chart = new TimeChart([{ label: 'value', color: '#5aa9ff' }], { height: 220, label: `telemetry chart of ${name}`, legend: false });
  const chartNote = h('p', { class: 'muted' });

  const drawChart = async () => {
    const key = keySelect.value;
    if (!key) return;
    const to = Date.now() + 1000;
    const from = to - Number(range.value);
    try {
      const points = await api<Array<{ ts: number; value: unknown }>>(
        `/api/devices/${enc(name)}/telemetry/${enc(key)}?from=${from}&to=${to}&limit=5000&order=asc`,
      );
      const numeric = points.filter(
        (p) => typeof p.value === 'number' || (typeof p.value === 'string' && p.value.trim() !== '' && !Number.isNaN(Number(p.value))),
      );
      chart.set(
        numeric.map((p) => p.ts / 1000),
        [numeric.map((p) => Number(p.value))],
      );
      chartNote.textContent = `${key}: ${numeric.length} point(s)${numeric.length < points.length ? `, ${points.length - numeric.length} not numeric` : ''}`;
      chart.el.dataset.points = String(numeric.length);
    } catch (e) {
      notice(message, (e as Error).message, 'bad');
    }
  };
  keySelect.addEventListener('change', () => void drawChart());
  range.addEventListener('change', () => void drawChart());

  const load = async () => {
    try {
      const values = await api<Record<string, { ts: number; value: unknown }>>(`/api/devices/${enc(name)}/telemetry/latest`);
      const keys = Object.keys(values).sort();
      fill(
        latest,
        ...keys.map((k) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, k),
            h('td', { class: 'mono' }, JSON.stringify(values[k]!.value)),
            h('td', { class: 'muted' }, time(values[k]!.ts)),
          ),
        ),
      );
      if (keys.length === 0) fill(latest, h('tr', {}, h('td', { colspan: '3', class: 'muted' }, 'No telemetry yet.')));
      const chosen = keySelect.value || keys.find((k) => typeof values[k]!.value === 'number') || keys[0] || '';
      fill(keySelect, ...keys.map((k) => h('option', { value: k, ...(k === chosen ? { selected: true } : {}) }, k)));
      const scopes = await Promise.all(
        (['client', 'shared', 'server'] as const).map(
          async (scope) => [scope, await api<Array<{ key: string; value: unknown }>>(`/api/devices/${enc(name)}/attributes/${scope}`)] as const,
        ),
      );
      fill(
        attributes,
        ...scopes.map(([scope, list]) =>
          h(
            'div',
            {},
            h('h3', {}, `${scope} attributes`),
            list.length ? codeBlock(Object.fromEntries(list.map((a) => [a.key, a.value]))) : h('p', { class: 'muted' }, 'none'),
          ),
        ),
      );
      await drawChart();
    } catch (e) {
      notice(message, (e as Error).message, 'bad');
    }
  };

  const method = h('input', { id: 'rpc-method', value: 'setInterval', required: true });
  const params = h('textarea', { id: 'rpc-params', rows: '3', spellcheck: 'false' }, '{"seconds": 30}');
  const twoWay = h('input', { type: 'checkbox', id: 'rpc-two-way', checked: true });
  const timeout = h('input', { id: 'rpc-timeout', type: 'number', min: '100', value: '10000' });
  const rpcResult = h('div', { class: 'rpc-result', 'aria-live': 'polite' });
  const rpc = h(
    'form',
    { class: 'card rpc', 'aria-label': 'send an RPC' },
    h('h2', {}, 'RPC'),
    h('label', { for: 'rpc-method' }, 'Method'),
    method,
    h('label', { for: 'rpc-params' }, 'Params (JSON)'),
    params,
    h(
      'div',
      { class: 'row' },
      h('label', { class: 'check' }, twoWay, 'two-way (wait for the reply)'),
      h('label', { for: 'rpc-timeout' }, 'timeout ms'),
      timeout,
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Send RPC'),
    rpcResult,
  );
  rpc.addEventListener('submit', (event) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = params.value.trim() === '' ? undefined : JSON.parse(params.value);
    } catch (e) {
      return notice(rpcResult, `params: ${(e as Error).message}`, 'bad');
    }
    notice(rpcResult, twoWay.checked ? 'sent; waiting for the reply…' : 'sending…');
    api<{ requestId: string; response?: unknown }>(`/api/devices/${enc(name)}/rpc`, 'POST', {
      method: method.value,
      params: parsed,
      oneway: !twoWay.checked,
      timeoutMs: Number(timeout.value),
    })
      .then((r) =>
        fill(
          rpcResult,
          h('p', { class: 'notice ok', role: 'status' }, `request ${r.requestId}: ${twoWay.checked ? 'replied' : 'delivered'}`),
          twoWay.checked ? codeBlock(r.response, 'RPC response') : null,
        ),
      )
      .catch((e: Error) => notice(rpcResult, `RPC failed: ${e.message}`, 'bad'));
  });

  root.append(
    h(
      'div',
      { class: 'device-grid' },
      h('section', { class: 'card' }, h('h2', {}, `${name} · latest telemetry`), h('div', { class: 'table-wrap' }, h('table', {}, latest)), attributes),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Time series'),
        h(
          'div',
          { class: 'row' },
          h('label', { for: 'chart-key' }, 'Key'),
          keySelect,
          h('label', { for: 'chart-range' }, 'Last'),
          range,
          h('button', { type: 'button', onclick: () => void load() }, 'Refresh'),
        ),
        chart.el,
        chartNote,
      ),
      rpc,
    ),
  );
  void load();
  const timer = setInterval(() => void load(), 5000);
  return () => {
    clearInterval(timer);
    chart.destroy();
  };
}

/** Devices of the embedded platform: search, latest telemetry and attributes, a chart of a key, RPC. */
export const devicesPage: Page = (root, [name]) => {
  const message = h('div', { 'aria-live': 'polite' });
  const search = h('input', { type: 'search', id: 'device-search', placeholder: 'name contains…' });
  const body = h('tbody');
  const load = async () => {
    try {
      const page = await api<{ data: Device[]; total: number }>(`/api/devices?limit=100${search.value ? `&search=${enc(search.value)}` : ''}`);
      fill(
        body,
        ...page.data.map((d) =>
          h(
            'tr',
            { ...(d.name === name ? { class: 'selected' } : {}) },
            h('td', {}, h('a', { href: `#/devices/${enc(d.name)}` }, d.name)),
            h('td', {}, d.type),
            h('td', {}, d.integration ?? '—'),
            h('td', { class: 'muted' }, time(d.lastSeen)),
          ),
        ),
      );
      if (page.data.length === 0) fill(body, h('tr', {}, h('td', { colspan: '4', class: 'muted' }, 'No devices.')));
    } catch (e) {
      notice(message, (e as Error).message, 'bad');
    }
  };
  search.addEventListener('input', () => void load());
  fill(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Devices'), message),
    h('div', { class: 'toolbar' }, h('label', { for: 'device-search' }, 'Search'), search),
    h(
      'div',
      { class: 'table-wrap devices' },
      h('table', {}, h('thead', {}, h('tr', {}, ...['Device', 'Type', 'Integration', 'Last seen'].map((t) => h('th', { scope: 'col' }, t)))), body),
    ),
  );
  void load();
  return name ? deviceView(root, name, message) : undefined;
};
