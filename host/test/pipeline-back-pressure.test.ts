// Acceptance (issue 4): a fast source against a slow store is paused, so what the pipeline holds
// stays bounded, and everything is stored in the end.
import { afterEach, describe, expect, it } from 'vitest';
import type { Integration, PlatformClient } from '@tbi/plugin-api';
import type { EmbeddedPlatform } from '@tbi/platform-embedded';
import { json, realPipeline, UPLINK } from './pipeline-support/real-pipeline.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** The real store behind a slow link (think ThingsBoard over a bad network): +30 ms per ingest. */
function slow(platform: EmbeddedPlatform): PlatformClient {
  return {
    ingest: async (items) => {
      await new Promise((r) => setTimeout(r, 30));
      return platform.ingest(items);
    },
    onCommand: (handler) => platform.onCommand(handler),
    commandResult: (id, result) => platform.commandResult(id, result),
  };
}

describe('back-pressure (real embedded platform, real sandbox)', () => {
  it('pauses a fast source at maxInFlight, resumes it, and stores every message', async () => {
    const env = await realPipeline({ wrap: slow });
    cleanups.push(() => env.close());
    const uplink = await env.sandbox.uplink('up', UPLINK);
    const maxInFlight = 300;
    const channel = env.pipeline.attach({ name: 'mqtt-1', type: 'mqtt', metadata: {}, uplink, downlinkMode: 'none', maxInFlight });

    // A source as fast as the event loop lets it be, that honours pause/resume like an MQTT client.
    let paused = false;
    let pauses = 0;
    let resumes = 0;
    let wake: (() => void) | undefined;
    const source: Integration = {
      start: async () => {},
      stop: async () => {},
      health: () => ({ status: 'up' }),
      pause: () => {
        paused = true;
        pauses++;
      },
      resume: () => {
        paused = false;
        resumes++;
        wake?.();
      },
    };
    channel.bind(source);

    const total = 6000;
    const payload = 'x'.repeat(512); // half a KiB each: unbounded buffering would show
    let maxSeen = 0;
    let acked = 0;
    const submits: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      while (paused) await new Promise<void>((r) => (wake = r));
      const message = { payload: json({ device: `dev-${i % 50}`, t: i, ts: 1_700_000_000_000 + i, pad: payload }), metadata: {} };
      submits.push(channel.uplink.submit([message]).then(() => acked++));
      maxSeen = Math.max(maxSeen, channel.status().inFlight);
      if (i % 100 === 99) await new Promise((r) => setImmediate(r)); // a socket delivers in chunks
    }
    await Promise.all(submits);

    expect(acked).toBe(total);
    expect(pauses).toBeGreaterThan(0);
    expect(resumes).toBe(pauses);
    expect(maxSeen).toBeLessThanOrEqual(maxInFlight); // what the pipeline holds never exceeded the bound
    expect(channel.status()).toMatchObject({ inFlight: 0, queued: 0, paused: false });
    const stored = env.platform.listDevices({ limit: 100 }).data.length;
    expect(stored).toBe(50);
    const points = env.platform.telemetry('dev-7', 't', { from: 0, to: 2_000_000_000_000, limit: 100_000 });
    expect(points).toHaveLength(total / 50);
    expect(env.metrics.value('tbi_messages_stored_total', { integration: 'mqtt-1' })).toBe(total);
    expect(env.metrics.value('tbi_in_flight', { integration: 'mqtt-1' })).toBe(0);
  });
});
