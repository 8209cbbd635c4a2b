import { afterEach, describe, expect, it } from 'vitest';
import { countRows, item, record, tempPlatform } from './helpers.js';

type Env = Awaited<ReturnType<typeof tempPlatform>>;
let env: Env;
afterEach(async () => env?.cleanup());

const t = (ts: number, v: number) => ({ telemetry: [{ ts, values: { v } }] });

describe('the record log (exports read it)', () => {
  it('has one entry per stored record, in commit order, none for a duplicate, created only where ingest created the device', async () => {
    env = await tempPlatform({ recordLog: { readers: ['out'] } });
    const log = env.platform.log!;
    expect(log.head()).toBe(0);
    await env.platform.ingest([
      item([record('a', t(1, 1)), record('a', t(2, 2))], 's/1'),
      item([record('b', { ...t(3, 3), attributes: { fw: '1' } })], 's/2', 'amqp'),
    ]);
    await env.platform.ingest([item([record('a', t(4, 4))], 's/1')]); // a redelivery: skipped
    await env.platform.ingest([item([record('a', { ...t(5, 5), rpcReplies: [{ requestId: 'r', response: 1 }] })])]);
    const entries = log.read(0, 100);
    expect(entries.map((e) => [e.seq, e.integration, e.record.deviceName, e.created, e.record.telemetry[0]!.values.v])).toEqual([
      [1, 'mqtt-1', 'a', true, 1],
      [2, 'mqtt-1', 'a', false, 2],
      [3, 'amqp', 'b', true, 3],
      [4, 'mqtt-1', 'a', false, 5],
    ]);
    expect(entries[2]!.record).toEqual({
      entityType: 'DEVICE',
      deviceName: 'b',
      deviceType: 'thermostat',
      attributes: { fw: '1' },
      telemetry: [{ ts: 3, values: { v: 3 } }],
    });
    expect(entries[3]!.record).not.toHaveProperty('rpcReplies');
    expect(log.head()).toBe(4);
    expect(log.read(2, 1).map((e) => e.seq)).toEqual([3]);
  });

  it('keeps cursors across a reopen, trims what every reader passed, never reuses a seq, and drops readers no longer configured', async () => {
    env = await tempPlatform({ recordLog: { readers: ['x', 'y'] } });
    for (let i = 1; i <= 5; i++) await env.platform.ingest([item([record('d', t(i, i))])]);
    const db = env.secondConnection();
    await env.platform.log!.commit('x', 5);
    expect(countRows(db, 'record_log')).toBe(5); // y has read nothing
    await env.platform.log!.commit('y', 3);
    expect(countRows(db, 'record_log')).toBe(2);
    await env.platform.log!.commit('y', 5);
    expect(countRows(db, 'record_log')).toBe(0);
    await env.platform.close();
    const again = await env.reopen({ recordLog: { readers: ['x'] } });
    try {
      expect(again.log!.cursor('x')).toBe(5);
      expect(again.log!.cursor('y')).toBe(0);
      expect(countRows(db, 'record_log_cursors')).toBe(1);
      expect(again.log!.head()).toBe(5);
      await again.ingest([item([record('d', t(6, 6))])]);
      expect(again.log!.read(5, 10).map((e) => e.seq)).toEqual([6]);
    } finally {
      db.close();
      await again.close();
    }
  });

  it('drops entries older than the retention even when unread', async () => {
    env = await tempPlatform({ recordLog: { readers: ['slow'], retentionDays: 1 } });
    await env.platform.ingest([item([record('d', t(1, 1))])]);
    env.clock.advance(2 * 86_400_000);
    await env.platform.ingest([item([record('d', t(2, 2))])]);
    await expect(env.platform.log!.commit('not-a-reader', 0)).rejects.toThrow(/"not-a-reader" is not a reader of the record log \(readers: slow\)/);
    await env.platform.log!.commit('slow', 0);
    expect(env.platform.log!.read(0, 10).map((e) => e.seq)).toEqual([2]);
  });

  it('wakes a waiting reader when ingest stores, and writes no log without readers', async () => {
    env = await tempPlatform({ recordLog: { readers: ['out'] } });
    const abort = new AbortController();
    let woke = false;
    const waiting = env.platform.log!.waitFor(0, abort.signal).then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(woke).toBe(false);
    await env.platform.ingest([item([record('d', t(1, 1))])]);
    await waiting;
    expect(woke).toBe(true);
    await env.cleanup();
    env = await tempPlatform();
    expect(env.platform.log).toBeUndefined();
    await env.platform.ingest([item([record('d', t(1, 1))])]);
    const db = env.secondConnection();
    expect(countRows(db, 'record_log')).toBe(0);
    db.close();
  });
});
