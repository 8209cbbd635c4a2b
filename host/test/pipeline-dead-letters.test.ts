// Acceptance (issue 4): a throwing converter dead-letters only its message; replay after fixing
// the converter (`converter.replace`) stores it.
import { afterEach, describe, expect, it } from 'vitest';
import { json, realPipeline, UPLINK, UPLINK_FIXED } from './pipeline-support/real-pipeline.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('dead letters and replay (real embedded platform, real sandbox)', () => {
  it('keeps only the failing message, then stores it when replayed through the fixed converter', async () => {
    const env = await realPipeline();
    cleanups.push(() => env.close());
    const uplink = await env.sandbox.uplink('up', UPLINK);
    const channel = env.pipeline.attach({ name: 'kafka-1', type: 'kafka', metadata: { site: 'north' }, uplink, downlinkMode: 'none' });
    const ts = 1_700_000_000_000;
    const outcomes = await channel.uplink.submit([
      { payload: json({ device: 'a', t: 1, ts }), metadata: { topic: 'in' }, sourceId: 'in/0/1' },
      { payload: json({ device: 'b', t: 2, ts, fail: true }), metadata: { topic: 'in' }, sourceId: 'in/0/2' },
      { payload: json({ device: 'c', t: 3, ts }), metadata: { topic: 'in' }, sourceId: 'in/0/3' },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['stored', 'dead-lettered', 'stored']);
    expect(outcomes[1]).toMatchObject({ error: { kind: 'THREW', message: expect.stringContaining('cannot decode message of b') } });
    expect(
      env.platform
        .listDevices()
        .data.map((d) => d.name)
        .sort(),
    ).toEqual(['a', 'c']);

    const app = env.pipeline.routes();
    const page = (await (await app.request('/dead-letters?integration=kafka-1')).json()) as {
      total: number;
      items: { id: number; sourceId: string; metadata: Record<string, string>; attempts: number; payload: { text: string } }[];
    };
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ sourceId: 'in/0/2', metadata: { topic: 'in' }, attempts: 1 });
    expect(JSON.parse(page.items[0]!.payload.text)).toMatchObject({ device: 'b', fail: true });

    // Replaying through the still-broken converter keeps the letter and counts the attempt.
    const again = await app.request('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ integration: 'kafka-1' }) });
    expect(await again.json()).toMatchObject({ selected: 1, stored: 0, failed: 1 });
    expect(((await (await app.request(`/dead-letters/${page.items[0]!.id}`)).json()) as { attempts: number }).attempts).toBe(2);

    await uplink.replace(UPLINK_FIXED);
    const replay = await app.request('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ ids: [page.items[0]!.id] }) });
    expect(await replay.json()).toEqual({ selected: 1, stored: 1, failed: 0, skipped: 0, notRunning: [] });
    expect(env.platform.latestTelemetry('b')).toEqual({ t: { ts, value: 2 } });
    expect(((await (await app.request('/dead-letters')).json()) as { total: number }).total).toBe(0);
    expect(env.metrics.value('tbi_dead_letters_total', { integration: 'kafka-1' })).toBe(1);
  });

  it('keeps messages a connector rejects before conversion, with its reason, and replays them', async () => {
    const env = await realPipeline();
    cleanups.push(() => env.close());
    const uplink = await env.sandbox.uplink('up', UPLINK_FIXED);
    const channel = env.pipeline.attach({ name: 'mqtt-1', type: 'mqtt', metadata: {}, uplink, downlinkMode: 'none' });
    const ts = 1_700_000_000_000;
    await channel.uplink.reject([{ payload: json({ device: 'big', t: 9, ts }), metadata: { topic: 'sensors/big' } }], 'larger than 10 bytes');
    expect(env.platform.listDevices().data).toEqual([]);

    const app = env.pipeline.routes();
    const page = (await (await app.request('/dead-letters?integration=mqtt-1')).json()) as {
      total: number;
      items: { id: number; error: { kind: string; message: string }; metadata: Record<string, string> }[];
    };
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ error: { kind: 'REJECTED', message: 'larger than 10 bytes' }, metadata: { topic: 'sensors/big' } });

    const replay = await app.request('/dead-letters/replay', { method: 'POST', body: JSON.stringify({ integration: 'mqtt-1' }) });
    expect(await replay.json()).toMatchObject({ selected: 1, stored: 1, failed: 0 });
    expect(env.platform.latestTelemetry('big')).toEqual({ t: { ts, value: 9 } });
  });
});
