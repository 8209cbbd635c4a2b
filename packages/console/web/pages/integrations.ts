import { api, enc } from '../api.js';
import { TimeChart } from '../chart.js';
import { badge, codeBlock, fill, h, notice, toneOf } from '../dom.js';
import { countsByIntegration, parseProm, type IntegrationCounts } from '../prom-text.js';
import type { Page } from '../main.js';

/** What `GET /api/integrations` lists. */
export interface IntegrationStatus {
  name: string;
  type: string;
  plugin: { package: string; version: string };
  enabled: boolean;
  desired: 'running' | 'stopped';
  state: string;
  health: { status: string; detail?: string };
  error?: string;
  restart?: { attempt: number; at: string; cause: string };
}

export async function listIntegrations(): Promise<IntegrationStatus[]> {
  return (await api<{ integrations: IntegrationStatus[] }>('/api/integrations')).integrations;
}

const POLL_MS = 1000;
/** Samples the rate charts keep: two minutes at one per poll. */
const WINDOW = 120;

/** Rates between two readings of the counters, per second. */
function rates(prev: IntegrationCounts | undefined, now: IntegrationCounts, seconds: number): number[] {
  const rate = (k: 'received' | 'stored' | 'deadLettered') => (prev ? Math.max(0, (now[k] - prev[k]) / seconds) : 0);
  return [rate('received'), rate('stored'), rate('deadLettered'), now.inFlight];
}

interface Card {
  el: HTMLElement;
  status: HTMLElement;
  numbers: HTMLElement;
  chart: TimeChart;
  history: number[][];
}

/**
 * Every integration as a card: type, plugin and version, state and health, counts and a live
 * chart of its rates (from `/metrics`), lag when the source reports one, start / stop / restart,
 * and its config with secrets masked.
 */
export const integrationsPage: Page = (root) => {
  const cards = new Map<string, Card>();
  const list = h('div', { class: 'cards' });
  const message = h('div', { 'aria-live': 'polite' });
  fill(root, h('div', { class: 'page-head' }, h('h1', {}, 'Integrations'), message), list);
  let previous: { at: number; counts: Map<string, IntegrationCounts> } | undefined;
  const times: number[] = [];
  let stopped = false;

  const act = async (name: string, action: 'start' | 'stop' | 'restart') => {
    try {
      const status = await api<IntegrationStatus>(`/api/integrations/${enc(name)}/${action}`, 'POST');
      notice(message, `${name}: ${action} → ${status.state}`);
    } catch (e) {
      notice(message, `${name}: ${action} failed: ${(e as Error).message}`, 'bad');
    }
    void refresh();
  };

  const makeCard = (s: IntegrationStatus): Card => {
    const status = h('div', { class: 'status-line' });
    const numbers = h('dl', { class: 'numbers' });
    const chart = new TimeChart(
      [
        { label: 'received/s', color: '#5aa9ff' },
        { label: 'stored/s', color: '#3ecf8e' },
        { label: 'dead-lettered/s', color: '#ff6b6b' },
        { label: 'in flight', color: '#f5b942' },
      ],
      { height: 110, label: `message rates of ${s.name}` },
    );
    const config = h('div');
    const details = h('details', {}, h('summary', {}, 'Config (secrets masked)'), config);
    details.addEventListener('toggle', () => {
      if (!details.open) return;
      api(`/api/integrations/${enc(s.name)}/config`)
        .then((c) => fill(config, codeBlock(c, `config of ${s.name}`)))
        .catch((e: Error) => fill(config, h('p', { class: 'notice bad' }, e.message)));
    });
    const el = h(
      'section',
      { class: 'card integration', 'aria-label': `integration ${s.name}`, 'data-integration': s.name },
      h('div', { class: 'card-head' }, h('h2', {}, s.name), h('span', { class: 'muted' }, `${s.type} · ${s.plugin.package} ${s.plugin.version}`)),
      status,
      numbers,
      chart.el,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => act(s.name, 'start') }, 'Start'),
        h('button', { type: 'button', onclick: () => act(s.name, 'stop') }, 'Stop'),
        h('button', { type: 'button', onclick: () => act(s.name, 'restart') }, 'Restart'),
        h('a', { class: 'button', href: `#/events/${enc(s.name)}` }, 'Live events'),
        h('a', { class: 'button', href: `#/editor/${enc(s.name)}/uplink` }, 'Converter'),
        h('a', { class: 'button', href: `#/dead-letters/${enc(s.name)}` }, 'Dead letters'),
      ),
      details,
    );
    return { el, status, numbers, chart, history: [[], [], [], []] };
  };

  const refresh = async () => {
    try {
      const [integrations, metricsText] = await Promise.all([listIntegrations(), fetch('/metrics').then((r) => r.text())]);
      if (stopped) return;
      const at = Date.now();
      const counts = countsByIntegration(parseProm(metricsText));
      times.push(at / 1000);
      if (times.length > WINDOW) times.shift();
      for (const s of integrations) {
        let card = cards.get(s.name);
        if (!card) {
          card = makeCard(s);
          cards.set(s.name, card);
          list.appendChild(card.el);
        }
        fill(
          card.status,
          badge(s.state, toneOf(s.state)),
          badge(`health: ${s.health.status}`, toneOf(s.health.status)),
          s.health.detail ? h('span', { class: 'detail' }, s.health.detail) : null,
          s.restart ? h('span', { class: 'detail' }, `restart ${s.restart.attempt} at ${new Date(s.restart.at).toLocaleTimeString()}`) : null,
        );
        const now = counts.get(s.name) ?? { received: 0, stored: 0, deadLettered: 0, failed: 0, inFlight: 0 };
        const prev = previous?.counts.get(s.name);
        const r = rates(prev, now, previous ? (at - previous.at) / 1000 : 1);
        r.forEach((v, i) => {
          card.history[i]!.push(v);
          if (card.history[i]!.length > times.length) card.history[i]!.shift();
        });
        while (card.history[0]!.length < times.length) for (const series of card.history) series.unshift(Number.NaN);
        card.chart.set(
          times.slice(),
          card.history.map((series) => series.map((v) => (Number.isNaN(v) ? null : v))),
        );
        card.chart.el.dataset.samples = String(times.length);
        const item = (term: string, value: string | number) => [h('div', {}, h('dt', {}, term), h('dd', {}, String(value)))];
        fill(
          card.numbers,
          ...item('received', now.received),
          ...item('stored', now.stored),
          ...item('dead-lettered', now.deadLettered),
          ...item('in flight', now.inFlight),
          ...(now.lag === undefined ? [] : item('lag', now.lag)),
          ...item('rate in', `${r[0]!.toFixed(1)}/s`),
        );
      }
      previous = { at, counts };
    } catch (e) {
      notice(message, (e as Error).message, 'bad');
    }
  };

  void refresh();
  const timer = setInterval(() => void refresh(), POLL_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
    for (const card of cards.values()) card.chart.destroy();
  };
};
