import { javascript } from '@codemirror/lang-javascript';
import { oneDark } from '@codemirror/theme-one-dark';
import { EditorView, basicSetup } from 'codemirror';
import { api, enc } from '../api.js';
import { recentEvents, type DebugEvent } from '../debug-event.js';
import { badge, codeBlock, fill, h, notice, time } from '../dom.js';
import type { Page } from '../main.js';
import { integrationPicker } from './integration-picker.js';

interface SourceView {
  source: string;
  origin: string;
  writesBack: boolean;
  version?: number;
}

interface TestResult {
  ok: boolean;
  output?: unknown;
  records?: unknown[];
  error?: { kind: string; message: string; path?: string };
  logs: Array<{ level: string; message: string }>;
  durationMs: number;
}

type PayloadFormat = 'json' | 'text' | 'base64' | 'hex';

/** The payload box as the test route's body: text as is, hex and Base64 as bytes. */
function payloadBody(text: string, format: PayloadFormat): { payload: string } | { payloadBase64: string } {
  if (format === 'base64') return { payloadBase64: text.replace(/\s+/g, '') };
  if (format === 'hex') {
    const hex = text.replace(/[^0-9a-f]/gi, '');
    const bytes = Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
    return { payloadBase64: btoa(String.fromCharCode(...bytes)) };
  }
  return { payload: text };
}

function resultView(result: TestResult): HTMLElement {
  return h(
    'div',
    { class: 'result', 'data-ok': String(result.ok) },
    h('p', {}, badge(result.ok ? 'ok' : 'failed', result.ok ? 'ok' : 'bad'), ` in ${result.durationMs.toFixed(1)} ms`),
    result.error
      ? h(
          'div',
          { class: 'error', role: 'alert' },
          h('h3', {}, 'Error'),
          h('p', {}, h('strong', {}, result.error.kind), `: ${result.error.message}`),
          result.error.path ? h('p', {}, 'at ', h('code', {}, result.error.path)) : null,
        )
      : null,
    result.records ? h('section', {}, h('h3', {}, `Records (${result.records.length})`), codeBlock(result.records)) : null,
    h('section', {}, h('h3', {}, 'Output'), codeBlock(result.output)),
    h('section', {}, h('h3', {}, `Logs (${result.logs.length})`), codeBlock(result.logs.map((l) => `[${l.level}] ${l.message}`).join('\n') || '—')),
  );
}

/**
 * An integration's uplink or downlink converter in CodeMirror, with a payload and metadata to test
 * it on (`POST /api/converters/test`), "use an event" to take them from a debug event, "apply" to
 * run it (`PUT /api/integrations/:name/converters/:kind`) and "replay dead letters" through it.
 */
export const editorPage: Page = (root, [name, kindParam, eventId]) => {
  const kind = kindParam === 'downlink' ? 'downlink' : 'uplink';
  const message = h('div', { 'aria-live': 'polite' });
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Converter editor'), message);
  fill(root, head);
  let view: EditorView | undefined;
  let stopped = false;

  integrationPicker(name, (picked) => (location.hash = `#/editor/${enc(picked)}/${kind}`))
    .then((picker) => {
      if (stopped) return;
      head.appendChild(picker);
      const kindSelect = h(
        'select',
        { id: 'kind' },
        ...['uplink', 'downlink'].map((k) => h('option', { value: k, ...(k === kind ? { selected: true } : {}) }, k)),
      );
      kindSelect.addEventListener('change', () => (location.hash = `#/editor/${enc(name ?? '')}/${kindSelect.value}`));
      head.appendChild(h('div', { class: 'picker' }, h('label', { for: 'kind' }, 'Converter'), kindSelect));
      if (name) void open(name);
    })
    .catch((e: Error) => notice(message, e.message, 'bad'));

  const open = async (integration: string) => {
    let sources: { uplink: SourceView; downlink?: SourceView };
    try {
      sources = await api(`/api/integrations/${enc(integration)}/converters`);
    } catch (e) {
      return notice(message, (e as Error).message, 'bad');
    }
    const current = sources[kind];
    if (!current) return notice(message, `${integration} has no ${kind} converter`, 'bad');
    const origin = h(
      'p',
      { class: 'muted' },
      current.writesBack ? `file ${current.origin} — apply writes it back` : 'inline in the config — apply keeps it in memory until the host stops',
      current.version === undefined ? '' : ` · running version ${current.version}`,
    );
    const editorHost = h('div', { class: 'editor', 'aria-label': `${kind} converter source` });
    view = new EditorView({ doc: current.source, extensions: [basicSetup, javascript(), oneDark, EditorView.lineWrapping], parent: editorHost });
    view.contentDOM.setAttribute('aria-label', `${kind} converter source`);

    const format = h(
      'select',
      { id: 'payload-format' },
      ...(['json', 'text', 'base64', 'hex'] as const).map((f) => h('option', { value: f }, f.toUpperCase())),
    );
    const payload = h('textarea', { id: 'payload', rows: '7', spellcheck: 'false' }, kind === 'uplink' ? '{"deviceName":"sensor-1","temperature":21.5}' : '');
    const metadata = h('textarea', { id: 'metadata', rows: '4', spellcheck: 'false' }, '{}');
    const request = h(
      'textarea',
      { id: 'request', rows: '9', spellcheck: 'false' },
      JSON.stringify(
        { msg: { method: 'setValue', params: 1 }, metadata: { deviceName: 'sensor-1' }, msgType: 'RPC_CALL_FROM_SERVER_TO_DEVICE', integrationMetadata: {} },
        null,
        2,
      ),
    );
    const eventSelect = h('select', { id: 'event' }, h('option', { value: '' }, 'recent debug events…'));
    const output = h('div', { class: 'output', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Run a test to see the output, records, logs and errors.'));
    const useEvent = (e: DebugEvent) => {
      if (kind === 'uplink' && e.in.payload) {
        format.value = e.in.payload.text === undefined ? 'base64' : 'text';
        payload.value = e.in.payload.text ?? e.in.payload.base64;
        try {
          if (e.in.payload.text !== undefined) {
            payload.value = JSON.stringify(JSON.parse(e.in.payload.text), null, 2);
            format.value = 'json';
          }
        } catch {
          // not JSON: the text as it came
        }
        metadata.value = JSON.stringify(e.in.metadata, null, 2);
      } else {
        request.value = JSON.stringify({ msg: e.in.msg, metadata: e.in.metadata, msgType: e.in.msgType, integrationMetadata: {} }, null, 2);
      }
      notice(message, `using event ${e.id} of ${time(e.time)}`);
    };
    const events = new Map<number, DebugEvent>();
    const loadEvents = async () => {
      const list = (await recentEvents(integration, 30)).filter((e) => e.type === kind);
      fill(eventSelect, h('option', { value: '' }, list.length ? 'recent debug events…' : 'no debug events yet'));
      for (const e of list) {
        events.set(e.id, e);
        eventSelect.appendChild(
          h('option', { value: String(e.id) }, `#${e.id} ${time(e.time)} ${e.status}${e.error ? ` — ${e.error.message.slice(0, 40)}` : ''}`),
        );
      }
      return list;
    };
    eventSelect.addEventListener('change', () => {
      const e = events.get(Number(eventSelect.value));
      if (e) useEvent(e);
    });
    loadEvents()
      .then(() => {
        const wanted = events.get(Number(eventId));
        if (wanted) useEvent(wanted);
      })
      .catch((e: Error) => fill(eventSelect, h('option', { value: '' }, `no debug events: ${e.message}`)));

    const test = async () => {
      const source = view!.state.doc.toString();
      try {
        const body =
          kind === 'uplink'
            ? { kind, source, metadata: JSON.parse(metadata.value || '{}') as unknown, ...payloadBody(payload.value, format.value as PayloadFormat) }
            : { kind, source, request: JSON.parse(request.value) as unknown };
        fill(output, resultView(await api<TestResult>('/api/converters/test', 'POST', body)));
      } catch (e) {
        fill(output, h('p', { class: 'notice bad', role: 'alert' }, (e as Error).message));
      }
    };
    const apply = async () => {
      try {
        const r = await api<{ applied: string; file?: string; status: { state: string } }>(`/api/integrations/${enc(integration)}/converters/${kind}`, 'PUT', {
          source: view!.state.doc.toString(),
        });
        notice(message, `applied to ${integration} (${r.applied}${r.file ? `, written to ${r.file}` : ', in memory'}); state ${r.status.state}`);
      } catch (e) {
        notice(message, `not applied: ${(e as Error).message}`, 'bad');
      }
    };
    const replay = async () => {
      try {
        const r = await api<{ selected: number; stored: number; failed: number; skipped: number }>('/api/dead-letters/replay', 'POST', { integration });
        notice(
          message,
          `replayed ${r.selected} dead letter(s): ${r.stored} stored, ${r.failed} failed again, ${r.skipped} skipped`,
          r.failed > 0 ? 'bad' : 'ok',
        );
      } catch (e) {
        notice(message, `replay failed: ${(e as Error).message}`, 'bad');
      }
    };
    const testButton = h('button', { type: 'button', class: 'primary', onclick: test, title: 'Ctrl+Enter' }, 'Test');
    root.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
        e.preventDefault();
        void test();
      }
    });

    const inputs =
      kind === 'uplink'
        ? [
            h(
              'div',
              { class: 'row' },
              h('label', { for: 'payload' }, 'Payload'),
              h('label', { class: 'sr-only', for: 'payload-format' }, 'payload format'),
              format,
            ),
            payload,
            h('label', { for: 'metadata' }, 'Metadata (JSON)'),
            metadata,
          ]
        : [h('label', { for: 'request' }, 'Request: msg, metadata, msgType, integrationMetadata (JSON)'), request];
    root.append(
      h(
        'div',
        { class: 'editor-grid' },
        h('section', { class: 'card' }, h('h2', {}, `${integration} · ${kind}`), origin, editorHost),
        h(
          'section',
          { class: 'card' },
          h('h2', {}, 'Test input'),
          h(
            'div',
            { class: 'row' },
            h('label', { class: 'sr-only', for: 'event' }, 'use an event'),
            eventSelect,
            h('button', { type: 'button', onclick: () => void loadEvents().catch((e: Error) => notice(message, e.message, 'bad')) }, 'Refresh events'),
          ),
          ...inputs,
          h(
            'div',
            { class: 'actions' },
            testButton,
            h('button', { type: 'button', onclick: apply }, 'Apply'),
            h('button', { type: 'button', onclick: replay }, 'Replay dead letters'),
          ),
          output,
        ),
      ),
    );
  };

  return () => {
    stopped = true;
    view?.destroy();
  };
};
