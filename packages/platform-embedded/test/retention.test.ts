import { describe, expect, it, afterEach } from 'vitest';
import { countTelemetryRows, item, record, tempPlatform } from './helpers.js';

const DAY = 86_400_000;
type Env = Awaited<ReturnType<typeof tempPlatform>>;
let env: Env;
afterEach(async () => env?.cleanup());

describe('retention', () => {
  it('deletes telemetry older than the TTL in chunks across many keys, keeping the latest values', async () => {
    env = await tempPlatform({ telemetryTtlDays: 2 });
    const { platform, clock } = env;
    const now = clock.now();
    // 3 devices x 3 keys; per key 4000 old points (more than one 5000-row chunk overall) and 2 recent.
    const records = ['a', 'b', 'c'].map((name) =>
      record(name, {
        telemetry: [
          ...Array.from({ length: 4000 }, (_, i) => ({ ts: now - 10 * DAY + i, values: { x: i, y: i, z: i } })),
          { ts: now - DAY, values: { x: -1, y: -1, z: -1 } },
          { ts: now, values: { x: -2, y: -2, z: -2 } },
        ],
      }),
    );
    await platform.ingest([item(records)]);
    const result = await platform.runRetention();
    expect(result.telemetry).toBe(3 * 3 * 4000);
    const db = env.secondConnection();
    expect(countTelemetryRows(db)).toBe(3 * 3 * 2);
    db.close();
    expect(platform.telemetry('b', 'y', { from: 0, to: now + 1 }).map((p) => p.value)).toEqual([-2, -1]);
    expect(platform.latestTelemetry('c')).toMatchObject({ z: { ts: now, value: -2 } });
  });

  it('keeps telemetry forever without a TTL, but forgets old source positions and finished commands', async () => {
    env = await tempPlatform({ dedupRetentionDays: 1 });
    const { platform, clock } = env;
    await platform.ingest([item([record('a', { telemetry: [{ ts: 1, values: { v: 1 } }] })], 'src/1')]);
    const rpc = await platform.sendRpc('a', { method: 'm', oneway: true, timeoutMs: 1000 });
    const attr = await platform.setAttributes('a', 'shared', { k: 1 });
    platform.commandResult(attr.commandId!, { ok: true });
    clock.advance(2 * DAY);
    await platform.ingest([item([record('a')], 'src/2')]);
    const first = await platform.runRetention();
    // The RPC expired (never delivered) during this run: it is deleted on the next one.
    expect(first).toEqual({ telemetry: 0, processedMessages: 1, commands: 1 });
    expect(platform.getCommand(rpc.requestId)?.status).toBe('expired');
    clock.advance(2 * DAY);
    expect((await platform.runRetention()).commands).toBe(1);
    expect(platform.getCommand(rpc.requestId)).toBeUndefined();
    // src/1 was forgotten: a (very late) redelivery would be stored again; src/2 is still known.
    expect(await platform.ingest([item([record('a')], 'src/1')])).toEqual({ stored: 1, duplicates: 0 });
    expect(platform.telemetry('a', 'v', { from: 0, to: 2 })).toHaveLength(1);
  });

  it('runs on its interval in the background', async () => {
    env = await tempPlatform({ telemetryTtlDays: 1, retentionIntervalMs: 50 });
    const { platform, clock } = env;
    await platform.ingest([
      item([
        record('a', {
          telemetry: [
            { ts: clock.now() - 3 * DAY, values: { v: 1 } },
            { ts: clock.now(), values: { v: 2 } },
          ],
        }),
      ]),
    ]);
    const db = env.secondConnection();
    const deadline = Date.now() + 10_000;
    while (countTelemetryRows(db) !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(countTelemetryRows(db)).toBe(1);
    db.close();
  });
});
