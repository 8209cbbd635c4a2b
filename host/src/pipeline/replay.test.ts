import { afterEach, describe, expect, it } from 'vitest';
import { functionConverter, jsonDecode, message } from '../../test/pipeline-support/fakes.js';
import { unitPipeline } from '../../test/pipeline-support/unit-pipeline.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('dead-letter replay', () => {
  it("runs dead letters through the integration's current converter: stored ones go, failing ones stay", async () => {
    const { pipeline, platform, metrics } = await unitPipeline();
    cleanups.push(() => pipeline.close());
    const converter = functionConverter(() => {
      throw new Error('v1 is broken');
    });
    const channel = pipeline.attach({ name: 'a', type: 't', metadata: {}, uplink: converter, downlinkMode: 'none' });
    const outcomes = await channel.uplink.submit([message('x', 1, { sourceId: 's/1' }), message('y'), message('still-bad')]);
    expect(outcomes.map((o) => o.status)).toEqual(['dead-lettered', 'dead-lettered', 'dead-lettered']);
    converter.setDecode((input) => {
      if (input.metadata.topic === 'd/still-bad') throw new Error('v2 still fails on this one');
      return jsonDecode(input);
    });
    const app = pipeline.routes();
    const res = await app.request('/dead-letters/replay', {
      method: 'POST',
      body: JSON.stringify({ integration: 'a' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ selected: 3, stored: 2, failed: 1, skipped: 0, notRunning: [] });
    expect(platform.stored.map((i) => [i.records[0]!.deviceName, i.sourceId])).toEqual([
      ['x', 's/1'],
      ['y', undefined],
    ]);
    const left = (await (await app.request('/dead-letters?integration=a')).json()) as {
      total: number;
      items: { attempts: number; error: { message: string } }[];
    };
    expect(left.total).toBe(1);
    expect(left.items[0]).toMatchObject({ attempts: 2, error: { message: 'v2 still fails on this one' } });
    // Replays are not new traffic.
    expect(metrics.value('tbi_messages_received_total', { integration: 'a' })).toBe(3);
  });

  it('skips dead letters of integrations that are not running', async () => {
    const { pipeline } = await unitPipeline();
    cleanups.push(() => pipeline.close());
    const channel = pipeline.attach({
      name: 'gone',
      type: 't',
      metadata: {},
      uplink: functionConverter(() => {
        throw new Error('x');
      }),
      downlinkMode: 'none',
    });
    await channel.uplink.submit([message('x')]);
    await channel.detach();
    const res = await pipeline.routes().request('/dead-letters/replay', { method: 'POST' });
    expect(await res.json()).toEqual({ selected: 1, stored: 0, failed: 0, skipped: 1, notRunning: ['gone'] });
  });
});
