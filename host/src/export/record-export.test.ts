import { DeliveryError, type OutboundDownlink, type StoredRecordEntry, type StoredRecordLog } from '@tbi/plugin-api';
import { afterEach, describe, expect, it } from 'vitest';
import { functionDownlinkConverter, RecordingMetrics, recordingLogger, until } from '../../test/pipeline-support/fakes.js';
import { exportRequests } from './export-requests.js';
import { RecordExport, type ExportSettings } from './record-export.js';

/** A log in memory with the contract's semantics (commit resolves once recorded). */
class MemoryLog implements StoredRecordLog {
  readonly entries: StoredRecordEntry[] = [];
  readonly cursors = new Map<string, number>();
  readonly commits: number[] = [];
  #waiters = new Set<() => void>();

  append(deviceName: string, values: Record<string, number>, created = false): void {
    const seq = this.entries.length + 1;
    this.entries.push({
      seq,
      storedAt: 1000 + seq,
      integration: 'in',
      created,
      record: { entityType: 'DEVICE', deviceName, deviceType: 'sensor', attributes: {}, telemetry: [{ ts: seq, values }] },
    });
    for (const wake of this.#waiters) wake();
  }
  read(after: number, limit: number): StoredRecordEntry[] {
    return this.entries.filter((e) => e.seq > after).slice(0, limit);
  }
  head(): number {
    return this.entries.length;
  }
  cursor(reader: string): number {
    return this.cursors.get(reader) ?? 0;
  }
  async commit(reader: string, seq: number): Promise<void> {
    this.cursors.set(reader, seq);
    this.commits.push(seq);
  }
  waitFor(after: number, signal: AbortSignal): Promise<void> {
    if (this.head() > after || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.#waiters.delete(wake);
        resolve();
      };
      this.#waiters.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
}

const json = functionDownlinkConverter((request) => ({
  ok: true,
  encoded: { contentType: 'JSON', data: JSON.stringify({ type: request.msgType, msg: request.msg, seq: request.metadata.seq }), metadata: {} },
  logs: [],
}));

const stops: RecordExport[] = [];
afterEach(async () => {
  for (const e of stops.splice(0)) await e.stop();
});

function exporter(log: MemoryLog, send: (d: OutboundDownlink) => Promise<void>, settings: ExportSettings = {}, converter = json) {
  const e = new RecordExport({
    name: 'out',
    log,
    send,
    converter: () => converter,
    integrationMetadata: { site: 'a' },
    settings: { batchSize: 10, ...settings },
    logger: recordingLogger(),
    metrics: new RecordingMetrics(),
  });
  stops.push(e);
  return e;
}

describe('exportRequests', () => {
  it("makes ThingsBoard's messages of one entry: created device, attributes, one telemetry message per sample", () => {
    const entry: StoredRecordEntry = {
      seq: 7,
      storedAt: 99,
      integration: 'mqtt-in',
      created: true,
      record: {
        entityType: 'DEVICE',
        deviceName: 'pump-1',
        deviceType: 'pump',
        customerName: 'acme',
        attributes: { fw: '1.2', model: 'x' },
        telemetry: [
          { ts: 1, values: { rpm: 10, temp: 20 } },
          { ts: 2, values: { rpm: 11 } },
        ],
      },
    };
    const all = exportRequests(entry, {}, { site: 'a' });
    expect(all.map((r) => [r.request.msgType, r.request.msg, r.request.metadata.ts])).toEqual([
      ['ENTITY_CREATED', { name: 'pump-1', type: 'pump', entityType: 'DEVICE', customerName: 'acme', groupName: null }, undefined],
      ['POST_ATTRIBUTES_REQUEST', { fw: '1.2', model: 'x' }, undefined],
      ['POST_TELEMETRY_REQUEST', { rpm: 10, temp: 20 }, '1'],
      ['POST_TELEMETRY_REQUEST', { rpm: 11 }, '2'],
    ]);
    expect(all[2]!.request.metadata).toEqual({
      deviceName: 'pump-1',
      deviceType: 'pump',
      entityType: 'DEVICE',
      integration: 'mqtt-in',
      seq: '7',
      storedAt: '99',
      ts: '1',
    });
    expect(all[2]!.request.integrationMetadata).toEqual({ site: 'a' });
    // Filters: keys drop what is empty afterwards; device types and event kinds.
    expect(exportRequests(entry, { keys: ['temp'] }, {}).map((r) => r.request.msg)).toEqual([expect.objectContaining({ name: 'pump-1' }), { temp: 20 }]);
    expect(exportRequests(entry, { events: ['telemetry'], keys: ['rpm'] }, {}).map((r) => r.request.msg)).toEqual([{ rpm: 10 }, { rpm: 11 }]);
    expect(exportRequests(entry, { deviceTypes: ['valve'] }, {})).toEqual([]);
  });
});

describe('RecordExport', () => {
  it('publishes every entry in log order, keyed by device, and commits only after the sends resolved', async () => {
    const log = new MemoryLog();
    for (let i = 0; i < 25; i++) log.append(`d${i % 3}`, { v: i });
    const sent: OutboundDownlink[] = [];
    const e = exporter(log, async (d) => {
      sent.push(d);
      // No commit may happen before this round's sends resolved.
      expect(log.cursors.get('out') ?? 0).toBeLessThan(Number(JSON.parse(d.encoded.data).seq));
    });
    e.start();
    await until(() => log.cursors.get('out') === 25, 5000, 'cursor at 25');
    expect(sent.map((d) => JSON.parse(d.encoded.data).seq)).toEqual(Array.from({ length: 25 }, (_, i) => String(i + 1)));
    expect(sent.map((d) => d.encoded.metadata.key)).toEqual(sent.map((d) => d.deviceName));
    expect(log.commits).toEqual([10, 20, 25]);
    // New entries are picked up as they are stored.
    log.append('d9', { v: 100 });
    await until(() => log.cursors.get('out') === 26, 5000, 'cursor at 26');
    expect(e.status()).toMatchObject({ state: 'running', cursor: 26, head: 26, lag: 0, sent: 26 });
  });

  it('retries a round whose send failed from the cursor, without committing it, and starts from the committed cursor', async () => {
    const log = new MemoryLog();
    for (let i = 0; i < 15; i++) log.append('d', { v: i });
    log.cursors.set('out', 5);
    let failures = 2;
    const seqs: string[] = [];
    const e = exporter(log, async (d) => {
      const seq = JSON.parse(d.encoded.data).seq as string;
      if (seq === '8' && failures > 0) {
        failures--;
        throw new DeliveryError('broker away', { retryable: true });
      }
      seqs.push(seq);
    });
    e.start();
    await until(() => e.status().state === 'retrying', 5000, 'retrying');
    expect(e.status().detail).toMatch(/broker away; retrying entries after 5/);
    await until(() => log.cursors.get('out') === 15, 10_000, 'cursor at 15');
    expect(log.commits).toEqual([15]);
    // At least once: the round 6..15 was sent again; every entry after the cursor arrived, in order, last time.
    expect(seqs.slice(-10)).toEqual(['6', '7', '8', '9', '10', '11', '12', '13', '14', '15']);
    expect(seqs).not.toContain('5');
  });

  it('holds at an entry the encoder fails on (errors: stop), or skips it (errors: skip)', async () => {
    const failing = functionDownlinkConverter((request) =>
      request.metadata.seq === '3'
        ? { ok: false, error: { kind: 'THREW', message: 'boom' }, logs: [] }
        : { ok: true, encoded: { contentType: 'TEXT', data: request.metadata.seq!, metadata: { key: 'fixed' } }, logs: [] },
    );
    const stopLog = new MemoryLog();
    for (let i = 0; i < 5; i++) stopLog.append('d', { v: i });
    const held = exporter(stopLog, async () => {}, { batchSize: 2 }, failing);
    held.start();
    await until(() => held.status().state === 'retrying', 5000, 'held');
    expect(held.status()).toMatchObject({ cursor: 2, lag: 3 });
    expect(held.status().detail).toMatch(/export encoder failed on log entry 3 \(d\): boom/);

    const skipLog = new MemoryLog();
    for (let i = 0; i < 5; i++) skipLog.append('d', { v: i });
    const sent: OutboundDownlink[] = [];
    const skipping = exporter(skipLog, async (d) => void sent.push(d), { batchSize: 2, errors: 'skip' }, failing);
    skipping.start();
    await until(() => skipLog.cursors.get('out') === 5, 5000, 'skipped through');
    expect(sent.map((d) => d.encoded.data)).toEqual(['1', '2', '4', '5']);
    // The encoder's own key wins over the device name.
    expect(sent[0]!.encoded.metadata.key).toBe('fixed');
    expect(skipping.status()).toMatchObject({ skipped: 1, sent: 4 });
  });

  it('stops without waiting for a broker that does not answer, leaving the round uncommitted', async () => {
    const log = new MemoryLog();
    log.append('d', { v: 1 });
    const e = exporter(log, () => new Promise(() => {}));
    e.start();
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await e.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(log.commits).toEqual([]);
    expect(e.status().state).toBe('stopped');
  });
});
