import { isTbiError, type DeliveryError } from '@tbi/plugin-api';
import { afterEach, describe, expect, it } from 'vitest';
import { LAST_SEEN_RESOLUTION_MS } from '../src/ingest-writer.js';
import { ALL_TELEMETRY, countRows, countTelemetryRows, item, MANUAL_MERGE, mergeNow, record, tempPlatform } from './helpers.js';

type Env = Awaited<ReturnType<typeof tempPlatform>>;
let env: Env;
afterEach(async () => env?.cleanup());

describe('ingest', () => {
  it('stores every telemetry shape with typed values, and the latest value per key', async () => {
    env = await tempPlatform();
    const { platform } = env;
    // The sandbox normalises a flat map, {ts, values} and an array of them into samples.
    const result = await platform.ingest([
      item([record('t-1', { telemetry: [{ ts: 1000, values: { temp: 21.5, on: true, count: 7, label: 'kitchen', cfg: null } }] })]),
      item([
        record('t-1', {
          telemetry: [
            { ts: 2000, values: { temp: 22 } },
            { ts: 3000, values: { temp: 22.5, count: 8 } },
          ],
        }),
      ]),
      item([record('t-2', { deviceType: 'meter', telemetry: [], attributes: { fw: '1.2' } })]),
    ]);
    expect(result).toEqual({ stored: 3, duplicates: 0 });
    expect(platform.telemetry('t-1', 'temp', { from: 0, to: 10_000, order: 'asc' })).toEqual([
      { ts: 1000, value: 21.5 },
      { ts: 2000, value: 22 },
      { ts: 3000, value: 22.5 },
    ]);
    expect(platform.latestTelemetry('t-1')).toEqual({
      cfg: { ts: 1000, value: null },
      count: { ts: 3000, value: 8 },
      label: { ts: 1000, value: 'kitchen' },
      on: { ts: 1000, value: true },
      temp: { ts: 3000, value: 22.5 },
    });
    expect(platform.latestTelemetry('t-1', ['temp', 'nope'])).toEqual({ temp: { ts: 3000, value: 22.5 } });
    // Typed like ThingsBoard's ts_kv: one column per type.
    const db = env.secondConnection();
    const types = db
      .prepare(
        `SELECT k.key, t.bool_v IS NOT NULL b, t.long_v IS NOT NULL l, t.dbl_v IS NOT NULL d, t.str_v IS NOT NULL s, t.json_v IS NOT NULL j
       FROM ${ALL_TELEMETRY} t JOIN telemetry_keys k ON k.id = t.key_id WHERE t.ts = 1000 ORDER BY k.key`,
      )
      .all();
    db.close();
    expect(types.map((r) => [r.key, r.b, r.l, r.d, r.s, r.j])).toEqual([
      ['cfg', 0, 0, 0, 0, 1],
      ['count', 0, 1, 0, 0, 0],
      ['label', 0, 0, 0, 1, 0],
      ['on', 1, 0, 0, 0, 0],
      ['temp', 0, 0, 1, 0, 0],
    ]);
  });

  it('keeps the latest value when older telemetry arrives later, and replaces a value stored again at the same ts', async () => {
    env = await tempPlatform();
    const { platform } = env;
    await platform.ingest([item([record('t-1', { telemetry: [{ ts: 5000, values: { temp: 30 } }] })])]);
    await platform.ingest([
      item([
        record('t-1', {
          telemetry: [
            { ts: 4000, values: { temp: 10 } },
            { ts: 5000, values: { temp: 31 } },
          ],
        }),
      ]),
    ]);
    expect(platform.latestTelemetry('t-1')).toEqual({ temp: { ts: 5000, value: 31 } });
    // Within one call, samples out of order: the newest still wins.
    await platform.ingest([
      item([
        record('t-1', {
          telemetry: [
            { ts: 7000, values: { temp: 7 } },
            { ts: 6000, values: { temp: 6 } },
          ],
        }),
      ]),
    ]);
    expect(platform.latestTelemetry('t-1')).toEqual({ temp: { ts: 7000, value: 7 } });
    expect(platform.telemetry('t-1', 'temp', { from: 0, to: 5500 })).toEqual([
      { ts: 5000, value: 31 },
      { ts: 4000, value: 10 },
    ]);
  });

  it('writes latest values with the merge; reads see the newer staged value before, the newest of both after', async () => {
    env = await tempPlatform({}, MANUAL_MERGE);
    const { platform } = env;
    const db = env.secondConnection();
    const stored = () =>
      db
        .prepare('SELECT ts, coalesce(long_v, dbl_v) AS v FROM telemetry_latest')
        .all()
        .map((r) => [r.ts, r.v]);
    await platform.ingest([item([record('t-1', { telemetry: [{ ts: 5000, values: { temp: 30 } }] })])]);
    // Nothing in telemetry_latest before a merge: the staged row is the latest value.
    expect(stored()).toEqual([]);
    expect(platform.latestTelemetry('t-1')).toEqual({ temp: { ts: 5000, value: 30 } });
    await mergeNow(platform);
    expect(stored()).toEqual([[5000, 30]]);
    // Staged again: an older ts loses to the merged value, the same ts replaces it (last stored wins).
    await platform.ingest([item([record('t-1', { telemetry: [{ ts: 4000, values: { temp: 10 } }] })])]);
    expect(platform.latestTelemetry('t-1')).toEqual({ temp: { ts: 5000, value: 30 } });
    await platform.ingest([item([record('t-1', { telemetry: [{ ts: 5000, values: { temp: 31 } }] })])]);
    expect(platform.latestTelemetry('t-1')).toEqual({ temp: { ts: 5000, value: 31 } });
    await platform.ingest([item([record('t-1', { telemetry: [{ ts: 5000, values: { temp: 32 } }] })])]);
    expect(platform.latestTelemetry('t-1')).toEqual({ temp: { ts: 5000, value: 32 } });
    await mergeNow(platform);
    expect(stored()).toEqual([[5000, 32]]);
    // A merge of rows all older than the merged latest value leaves it.
    await platform.ingest([item([record('t-1', { telemetry: [{ ts: 1000, values: { temp: 1 } }] })])]);
    await mergeNow(platform);
    expect(stored()).toEqual([[5000, 32]]);
    expect(platform.latestTelemetry('t-1')).toEqual({ temp: { ts: 5000, value: 32 } });
    db.close();
  });

  it('writes last_seen at most once per resolution for a device seen through the same integration', async () => {
    env = await tempPlatform();
    const { platform, clock } = env;
    const db = env.secondConnection();
    const lastSeen = () => (db.prepare("SELECT last_seen FROM devices WHERE name = 't-1'").get() as { last_seen: number }).last_seen;
    const created = clock.now();
    await platform.ingest([item([record('t-1')], undefined, 'mqtt-1')]);
    clock.advance(LAST_SEEN_RESOLUTION_MS - 1);
    await platform.ingest([item([record('t-1')], undefined, 'mqtt-1')]);
    expect(lastSeen()).toBe(created);
    // Another integration is written at once.
    await platform.ingest([item([record('t-1')], undefined, 'kafka-1')]);
    expect(platform.getDevice('t-1')).toMatchObject({ integration: 'kafka-1', lastSeen: created + LAST_SEEN_RESOLUTION_MS - 1 });
    clock.advance(LAST_SEEN_RESOLUTION_MS);
    await platform.ingest([item([record('t-1')], undefined, 'kafka-1')]);
    expect(lastSeen()).toBe(created + 2 * LAST_SEEN_RESOLUTION_MS - 1);
    db.close();
  });

  it('creates devices and assets on first sight; type, customer and group apply only at creation', async () => {
    env = await tempPlatform();
    const { platform, clock } = env;
    const created = clock.now();
    await platform.ingest([
      item(
        [record('t-1', { customerName: 'ACME', groupName: 'Floor 1' }), record('Building A', { entityType: 'ASSET', deviceType: 'building' })],
        undefined,
        'mqtt-1',
      ),
    ]);
    clock.advance(60_000);
    await platform.ingest([item([record('t-1', { deviceType: 'other', customerName: 'Other', groupName: 'Other' })], undefined, 'kafka-1')]);
    expect(platform.getDevice('t-1')).toEqual({
      name: 't-1',
      entityType: 'DEVICE',
      type: 'thermostat',
      customerName: 'ACME',
      groupName: 'Floor 1',
      integration: 'kafka-1',
      createdTime: created,
      lastSeen: created + 60_000,
    });
    expect(platform.getDevice('Building A')).toMatchObject({ entityType: 'ASSET', type: 'building', integration: 'mqtt-1' });
    expect(platform.getDevice('nope')).toBeUndefined();
  });

  it('stores client attributes from records', async () => {
    env = await tempPlatform();
    const { platform, clock } = env;
    await platform.ingest([item([record('t-1', { attributes: { fw: '1.0', battery: 87, ok: true } })])]);
    clock.advance(1000);
    await platform.ingest([item([record('t-1', { attributes: { fw: '1.1' } })])]);
    expect(platform.getAttributes('t-1', 'client')).toEqual([
      { key: 'battery', value: 87, lastUpdateTs: clock.now() - 1000 },
      { key: 'fw', value: '1.1', lastUpdateTs: clock.now() },
      { key: 'ok', value: true, lastUpdateTs: clock.now() - 1000 },
    ]);
    expect(platform.getAttributes('t-1', 'shared')).toEqual([]);
  });

  it('skips items whose (integration, sourceId) was stored before, in the same or a later batch', async () => {
    env = await tempPlatform();
    const { platform } = env;
    const first = item([record('t-1', { telemetry: [{ ts: 1, values: { n: 1 } }] })], 'orders/0/41');
    expect(await platform.ingest([first, item([record('t-1', { telemetry: [{ ts: 2, values: { n: 2 } }] })], 'orders/0/42')])).toEqual({
      stored: 2,
      duplicates: 0,
    });
    // Redelivery after a crash: same positions, the second one now with a different value.
    const again = await platform.ingest([
      first,
      item([record('t-1', { telemetry: [{ ts: 2, values: { n: 999 } }] })], 'orders/0/42'),
      item([record('t-1', { telemetry: [{ ts: 3, values: { n: 3 } }] })], 'orders/0/43'),
      item([record('t-1', { telemetry: [{ ts: 3, values: { n: 333 } }] })], 'orders/0/43'),
    ]);
    expect(again).toEqual({ stored: 1, duplicates: 3 });
    expect(platform.telemetry('t-1', 'n', { from: 0, to: 10, order: 'asc' }).map((p) => p.value)).toEqual([1, 2, 3]);
    // The same position from another integration is another message.
    expect(await platform.ingest([item([record('t-2')], 'orders/0/41', 'kafka-2')])).toEqual({ stored: 1, duplicates: 0 });
    // Items without a sourceId are always stored.
    expect(await platform.ingest([item([record('t-1')]), item([record('t-1')])])).toEqual({ stored: 2, duplicates: 0 });
  });

  it('is durable across close and reopen', async () => {
    env = await tempPlatform();
    await env.platform.ingest([item([record('t-1', { telemetry: [{ ts: 1, values: { v: 1 } }], attributes: { a: 'x' } })], 's/1')]);
    await env.platform.close();
    const reopened = await env.reopen();
    try {
      expect(reopened.latestTelemetry('t-1')).toEqual({ v: { ts: 1, value: 1 } });
      expect(reopened.getAttributes('t-1', 'client')).toMatchObject([{ key: 'a', value: 'x' }]);
      expect(await reopened.ingest([item([record('t-1')], 's/1')])).toEqual({ stored: 0, duplicates: 1 });
    } finally {
      await reopened.close();
    }
  });

  it('commits in WAL mode with synchronous=FULL', async () => {
    env = await tempPlatform();
    const db = env.secondConnection();
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    db.close();
    // synchronous is per connection: read it through the platform's own connection.
    const own = (env.platform as unknown as { db: import('node:sqlite').DatabaseSync }).db;
    expect(own.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 2 });
    // Ingest commits on the writer thread's connection: it must fsync at every commit too.
    const writer = (env.platform as unknown as { writer: { request(op: 'pragma', args: { name: string }): Promise<unknown> } }).writer;
    expect(await writer.request('pragma', { name: 'synchronous' })).toBe(2);
    expect(await writer.request('pragma', { name: 'journal_mode' })).toBe('wal');
  });
});

describe('ingest failures', () => {
  it('stores nothing of a batch that fails in the middle, and stores it all when retried', async () => {
    env = await tempPlatform();
    const { platform } = env;
    // A real constraint failure on the 3rd value of the 2nd item, installed from another connection.
    const other = env.secondConnection();
    other.exec(`CREATE TRIGGER boom BEFORE INSERT ON telemetry_recent
      WHEN NEW.str_v = 'boom' BEGIN SELECT RAISE(ABORT, 'rejected by test trigger'); END`);
    const batch = [
      item([record('t-1', { telemetry: [{ ts: 1, values: { a: 1, b: 2 } }], attributes: { fw: '1' } })], 'p/1'),
      item([record('t-new', { telemetry: [{ ts: 1, values: { a: 1, b: 2, c: 'boom' } }] })], 'p/2'),
    ];
    const error = (await platform.ingest(batch).catch((e: unknown) => e)) as DeliveryError;
    expect(isTbiError(error) && error.code).toBe('DELIVERY_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.context).toMatchObject({ sqlite: 'CONSTRAINT' });
    for (const table of ['devices', 'telemetry', 'telemetry_recent', 'telemetry_latest', 'attributes', 'processed_messages', 'telemetry_keys']) {
      expect(countRows(other, table), table).toBe(0);
    }
    expect(platform.getDevice('t-1')).toBeUndefined();
    other.exec('DROP TRIGGER boom');
    other.close();
    expect(await platform.ingest(batch)).toEqual({ stored: 2, duplicates: 0 });
    expect(platform.latestTelemetry('t-new')).toMatchObject({ c: { value: 'boom' } });
  });

  it('rejects with a retryable DeliveryError while another connection holds the write lock, then succeeds', async () => {
    env = await tempPlatform({ busyTimeoutMs: 20 });
    const { platform } = env;
    const other = env.secondConnection();
    other.exec('BEGIN EXCLUSIVE');
    const error = (await platform
      .ingest([item([record('t-1', { telemetry: [{ ts: 1, values: { v: 1 } }] })], 'x/1')])
      .catch((e: unknown) => e)) as DeliveryError;
    expect(error.code).toBe('DELIVERY_FAILED');
    expect(error.retryable).toBe(true);
    expect(error.context).toMatchObject({ sqlite: 'BUSY' });
    other.exec('ROLLBACK');
    expect(countTelemetryRows(other)).toBe(0);
    expect(await platform.ingest([item([record('t-1', { telemetry: [{ ts: 1, values: { v: 1 } }] })], 'x/1')])).toEqual({ stored: 1, duplicates: 0 });
    expect(countTelemetryRows(other)).toBe(1);
    other.close();
  });

  it('rejects invalid records without retry and stores nothing of that call', async () => {
    env = await tempPlatform();
    const bad = [item([record('t-1', { telemetry: [{ ts: 1, values: { v: 1 } }] })]), item([record('t-2', { telemetry: [{ ts: Number.NaN, values: {} }] })])];
    const error = (await env.platform.ingest(bad).catch((e: unknown) => e)) as DeliveryError;
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('items[1].records[0].telemetry[0].ts');
    expect(env.platform.getDevice('t-1')).toBeUndefined();
  });

  it('group-commits concurrent calls in one transaction but rolls back only the call with bad data', async () => {
    env = await tempPlatform();
    const { platform } = env;
    const other = env.secondConnection();
    other.exec(`CREATE TRIGGER boom BEFORE INSERT ON telemetry_recent WHEN NEW.str_v = 'boom' BEGIN SELECT RAISE(ABORT, 'no'); END`);
    const results = await Promise.allSettled([
      platform.ingest([item([record('a', { telemetry: [{ ts: 1, values: { v: 1 } }] })], 'a/1')]),
      platform.ingest([
        item([record('b', { telemetry: [{ ts: 1, values: { v: 1 } }] })], 'b/1'),
        item([record('b', { telemetry: [{ ts: 2, values: { v: 'boom' } }] })], 'b/2'),
      ]),
      platform.ingest([item([record('c', { telemetry: [{ ts: 1, values: { v: 1 } }] })], 'c/1')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(platform.getDevice('a')).toBeDefined();
    expect(platform.getDevice('b')).toBeUndefined();
    expect(platform.getDevice('c')).toBeDefined();
    expect(countRows(other, 'processed_messages')).toBe(2);
    // The device ids looked up by the rolled-back call were not cached: 'b' is created properly later.
    other.exec('DROP TRIGGER boom');
    other.close();
    await platform.ingest([item([record('b', { telemetry: [{ ts: 3, values: { v: 3 } }] })])]);
    expect(platform.latestTelemetry('b')).toEqual({ v: { ts: 3, value: 3 } });
  });

  it('rejects a call whose values cannot be copied to the writer thread, without failing the calls made with it', async () => {
    env = await tempPlatform();
    const { platform } = env;
    const results = await Promise.allSettled([
      platform.ingest([item([record('a', { telemetry: [{ ts: 1, values: { v: 1 } }] })], 'a/1')]),
      platform.ingest([item([record('b', { telemetry: [{ ts: 1, values: { v: (() => 1) as unknown as number } }] })], 'b/1')]),
      platform.ingest([item([record('c', { telemetry: [{ ts: 1, values: { v: 3 } }] })], 'c/1')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const error = (results[1] as PromiseRejectedResult).reason as DeliveryError;
    expect(error.code).toBe('DELIVERY_FAILED');
    expect(error.retryable).toBe(false);
    expect(platform.getDevice('b')).toBeUndefined();
    expect(platform.latestTelemetry('c')).toEqual({ v: { ts: 1, value: 3 } });
  });

  it('refuses ingest after close with ShutdownError', async () => {
    env = await tempPlatform();
    await env.platform.close();
    await expect(env.platform.ingest([])).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });
});
