// Acceptance (issue 4): a message redelivered by its source (same sourceId) is stored once.
import { afterEach, describe, expect, it } from 'vitest';
import { json, realPipeline, UPLINK } from './pipeline-support/real-pipeline.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('redelivery (real embedded platform, real sandbox)', () => {
  it('stores a message with a repeated sourceId once, in one batch or across batches', async () => {
    const env = await realPipeline();
    cleanups.push(() => env.close());
    const uplink = await env.sandbox.uplink('up', UPLINK);
    const channel = env.pipeline.attach({ name: 'kafka-1', type: 'kafka', metadata: {}, uplink, downlinkMode: 'none' });
    // No `ts` in the payload: telemetry takes receivedAt, which differs per delivery, so a second
    // copy would be a second point.
    const delivery = (receivedAt: number, sourceId?: string) => ({
      payload: json({ device: 'm', t: 5 }),
      metadata: {},
      receivedAt,
      ...(sourceId ? { sourceId } : {}),
    });

    const first = await channel.uplink.submit([delivery(1000, 'orders/3/1842'), delivery(2000, 'orders/3/1842')]);
    const second = await channel.uplink.submit([delivery(3000, 'orders/3/1842')]);
    expect([...first, ...second].map((o) => o.status)).toEqual(['stored', 'stored', 'stored']);
    const range = { from: 0, to: 10_000, limit: 100 };
    expect(env.platform.telemetry('m', 't', range).map((p) => p.ts)).toEqual([1000]);

    await channel.uplink.submit([delivery(4000)]); // no source position: stored every time
    expect(env.platform.telemetry('m', 't', { ...range, order: 'asc' }).map((p) => p.ts)).toEqual([1000, 4000]);
  });
});
