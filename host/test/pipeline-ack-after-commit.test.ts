// Acceptance (issue 4): a submit resolves (the connector may ack) only after the platform's
// commit. The real SQLite store is made to fail by another connection holding its write lock.
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseSync } from 'node:sqlite';
import { ShutdownError, type UplinkOutcome } from '@tbi/plugin-api';
import { until } from './pipeline-support/fakes.js';
import { json, realPipeline, UPLINK } from './pipeline-support/real-pipeline.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const env = await realPipeline();
  cleanups.push(() => env.close());
  const uplink = await env.sandbox.uplink('up', UPLINK);
  const channel = env.pipeline.attach({ name: 'mqtt-1', type: 'mqtt', metadata: {}, uplink, downlinkMode: 'none' });
  // Another writer takes the database's write lock: every ingest now fails with SQLITE_BUSY.
  const blocker = new DatabaseSync(env.platform.file);
  cleanups.push(() => blocker.close());
  blocker.exec('PRAGMA busy_timeout = 0');
  blocker.exec('BEGIN IMMEDIATE');
  return { ...env, channel, blocker };
}

const retries = (lines: { msg?: string }[]) => lines.filter((l) => l.msg === 'platform ingest failed; retrying').length;

describe('ack after commit (real embedded platform, real sandbox)', () => {
  it('does not resolve while the store fails, retries, and resolves once the data is committed', async () => {
    const { platform, channel, blocker, logger } = await setup();
    let outcomes: UplinkOutcome[] | undefined;
    const submitted = channel.uplink.submit([
      { payload: json({ device: 'boiler-7', t: 21.5, ts: 1_700_000_000_000 }), metadata: { topic: 'sensors/boiler-7' } },
    ]);
    void submitted.then((o) => (outcomes = o));

    await until(() => retries(logger.lines) >= 3, 20_000, 'three failed ingest attempts');
    expect(outcomes).toBeUndefined(); // not acknowledgeable: nothing is stored
    expect(platform.getDevice('boiler-7')).toBeUndefined();
    expect(channel.health()).toMatchObject({ status: 'degraded', detail: expect.stringMatching(/attempt \d+/) });
    expect(channel.status().inFlight).toBe(1);

    blocker.exec('ROLLBACK'); // the store recovers
    const [outcome] = await submitted;
    expect(outcome?.status).toBe('stored');
    expect(platform.latestTelemetry('boiler-7')).toEqual({ t: { ts: 1_700_000_000_000, value: 21.5 } });
    expect(platform.getDevice('boiler-7')?.integration).toBe('mqtt-1');
    expect(channel.health()).toEqual({ status: 'up' });
  });

  it('releases (never acks) what is in flight when the integration stops during the outage', async () => {
    const { platform, channel, blocker, logger } = await setup();
    const submitted = channel.uplink.submit([{ payload: json({ device: 'pump-1', t: 1 }), metadata: {} }]);
    await until(() => retries(logger.lines) >= 1, 20_000, 'a failed ingest attempt');
    await channel.detach();
    await expect(submitted).rejects.toBeInstanceOf(ShutdownError);
    blocker.exec('ROLLBACK');
    await new Promise((r) => setTimeout(r, 200));
    expect(platform.getDevice('pump-1')).toBeUndefined();
  });
});
