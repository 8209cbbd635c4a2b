import path from 'node:path';
import type { ReplayBatch, ReplayRequest } from '@tbi/plugin-api';
import { afterEach, describe, expect, it } from 'vitest';
import { functionConverter, jsonDecode, message, RecordingMetrics, recordingLogger, tempDir, until } from '../../test/pipeline-support/fakes.js';
import { unitPipeline } from '../../test/pipeline-support/unit-pipeline.js';
import type { IntegrationChannel } from '../pipeline/channel.js';
import { ReplayJobs, type ReplayTarget, type ReplayUnavailable } from './replay-jobs.js';
import { ReplayStore } from './replay-store.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A source of `n` messages (device d<i % 3>, t = i) in batches of `maxBatch`, resuming after a checkpoint. */
function countingSource(n: number, requests: ReplayRequest[] = [], opts: { failAt?: number; gate?: () => Promise<void> } = {}) {
  return async function* (request: ReplayRequest): AsyncIterable<ReplayBatch> {
    requests.push(request);
    let next = request.resume === undefined ? 0 : Number(request.resume);
    while (next < n) {
      if (opts.failAt !== undefined && next >= opts.failAt) throw new Error('the broker said no');
      await opts.gate?.();
      const end = Math.min(n, next + request.maxBatch);
      const messages = [];
      for (let i = next; i < end; i++) messages.push(message(`d${i % 3}`, i, { sourceId: `s/${i}` }));
      next = end;
      yield { messages, checkpoint: String(next), position: `offset ${next} of ${n}`, total: n };
    }
  };
}

async function setUp(source: ReturnType<typeof countingSource>, options: { maxBatch?: number } = {}) {
  const { pipeline, platform } = await unitPipeline();
  cleanups.push(() => pipeline.close());
  const converter = functionConverter(jsonDecode);
  let channel: IntegrationChannel | undefined = pipeline.attach({ name: 'k', type: 'kafka', metadata: {}, uplink: converter, downlinkMode: 'none' });
  let abort = new AbortController();
  let running = true;
  const targets = (name: string): ReplayTarget | ReplayUnavailable => {
    if (name !== 'k') return 'unknown';
    return running && channel ? { replay: source, channel, signal: abort.signal } : 'not-running';
  };
  const file = path.join(await tempDir(), 'replays.db');
  const open = () =>
    new ReplayJobs(
      new ReplayStore(file),
      targets,
      { logger: recordingLogger(), metrics: new RecordingMetrics() },
      { maxBatch: options.maxBatch ?? 100, pollMs: 10 },
    );
  const control = {
    platform,
    converter,
    open,
    /** Stops the integration: its channel detaches, its signal aborts. */
    async stopIntegration() {
      running = false;
      abort.abort();
      await channel?.detach();
      channel = undefined;
    },
    startIntegration() {
      channel = pipeline.attach({ name: 'k', type: 'kafka', metadata: {}, uplink: converter, downlinkMode: 'none' });
      abort = new AbortController();
      running = true;
    },
  };
  return control;
}

describe('ReplayJobs', () => {
  it('stores every message of the range through the current converter, without sourceId de-duplication, and ends done', async () => {
    const requests: ReplayRequest[] = [];
    const t = await setUp(countingSource(1000, requests));
    const jobs = t.open();
    cleanups.push(() => jobs.close());
    const started = jobs.start('k', { time: 5 }, { offset: '1000' });
    expect(started).toMatchObject({ id: 1, integration: 'k', state: 'running', from: { time: 5 }, to: { offset: '1000' } });
    await until(() => jobs.get(1)!.state === 'done', 10_000, 'replay done');
    expect(jobs.get(1)).toMatchObject({ read: 1000, stored: 1000, failed: 0, total: 1000, percent: 100, position: 'offset 1000 of 1000' });
    expect(t.platform.stored).toHaveLength(1000);
    // Replayed items carry no sourceId: the platform overwrites instead of skipping them.
    expect(t.platform.stored.every((item) => item.sourceId === undefined)).toBe(true);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ from: { time: 5 }, to: { offset: '1000' }, maxBatch: 100 });
    expect(requests[0]!.resume).toBeUndefined();
  });

  it('reads one batch at a time: the next batch is read only once the previous one is stored', async () => {
    let release!: () => void;
    let gateOpen = new Promise<void>((r) => (release = r));
    const t = await setUp(countingSource(300), { maxBatch: 100 });
    t.platform.gate = gateOpen;
    const jobs = t.open();
    cleanups.push(() => jobs.close());
    jobs.start('k', { offset: '0' });
    await until(() => t.platform.calls.length === 1, 5000, 'first ingest');
    await new Promise((r) => setTimeout(r, 100));
    // The first batch waits in the store: nothing more was read or converted.
    expect(t.platform.calls.flat()).toHaveLength(100);
    expect(jobs.get(1)!.read).toBe(0);
    t.platform.gate = undefined;
    release();
    gateOpen = Promise.resolve();
    await until(() => jobs.get(1)!.state === 'done', 5000, 'done');
    expect(jobs.get(1)!.read).toBe(300);
  });

  it('counts converter failures as failed (dead-lettered) and goes on', async () => {
    const t = await setUp(countingSource(50));
    t.converter.setDecode((input) => {
      const body = JSON.parse(Buffer.from(input.payload).toString()) as { t: number };
      if (body.t % 10 === 0) throw new Error('bad');
      return jsonDecode(input);
    });
    const jobs = t.open();
    cleanups.push(() => jobs.close());
    jobs.start('k', { offset: '0' });
    await until(() => jobs.get(1)!.state === 'done', 5000, 'done');
    expect(jobs.get(1)).toMatchObject({ read: 50, stored: 45, failed: 5 });
  });

  it('resumes after the last stored batch when the host restarts, and after its integration comes back', async () => {
    const requests: ReplayRequest[] = [];
    let batches = 0;
    let hold: (() => void) | undefined;
    const t = await setUp(
      countingSource(1000, requests, {
        gate: async () => {
          batches++;
          if (batches === 4) await new Promise<void>((r) => (hold = r));
        },
      }),
    );
    let jobs = t.open();
    jobs.start('k', { offset: '0' });
    await until(() => hold !== undefined, 5000, 'fourth batch');
    expect(jobs.get(1)!.read).toBe(300);
    // The host stops mid-replay: the replay stays unfinished, its checkpoint on disk.
    const closing = jobs.close();
    hold!();
    await closing;
    jobs = t.open();
    cleanups.push(() => jobs.close());
    expect(jobs.get(1)).toMatchObject({ state: 'running', read: 300 });
    // Its integration is not running when the host comes back: the replay waits for it.
    await t.stopIntegration();
    jobs.resumeUnfinished();
    await until(() => jobs.get(1)!.state === 'waiting', 5000, 'waiting');
    expect(jobs.get(1)!.detail).toMatch(/not running/);
    t.startIntegration();
    await until(() => jobs.get(1)!.state === 'done', 5000, 'done');
    expect(requests.at(-1)!.resume).toBe('300');
    expect(jobs.get(1)!.read).toBe(1000);
    // The batch in flight at the stop may be stored twice (at least once), nothing is skipped.
    const ts = new Set(t.platform.stored.map((i) => i.records[0]!.telemetry[0]!.values.t));
    expect(ts.size).toBe(1000);
  });

  it('cancels: stops reading, keeps what was stored, and refuses to cancel twice', async () => {
    let release!: () => void;
    const t = await setUp(countingSource(10_000, [], { gate: () => new Promise<void>((r) => (release = r)) }));
    const jobs = t.open();
    cleanups.push(() => jobs.close());
    jobs.start('k', { offset: '0' });
    await until(() => release !== undefined, 5000, 'first batch');
    release();
    await until(() => jobs.get(1)!.read === 100, 5000, 'first batch stored');
    const cancelling = jobs.cancel(1);
    release();
    const cancelled = await cancelling;
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.finishedAt).toBeTypeOf('number');
    expect(cancelled.read).toBeLessThan(10_000);
    await expect(jobs.cancel(1)).rejects.toMatchObject({ code: 'REPLAY_ENDED', status: 409 });
    await expect(jobs.cancel(9)).rejects.toMatchObject({ code: 'REPLAY_NOT_FOUND', status: 404 });
  });

  it('refuses what cannot replay, with the reason, and a second replay of the same integration', async () => {
    const t = await setUp(countingSource(1_000_000, [], { gate: () => new Promise(() => {}) }));
    const jobs = t.open();
    cleanups.push(() => jobs.close());
    expect(() => jobs.start('nope', { offset: '0' })).toThrow(expect.objectContaining({ code: 'REPLAY_UNKNOWN_INTEGRATION', status: 404 }));
    jobs.start('k', { offset: '0' });
    expect(() => jobs.start('k', { offset: '0' })).toThrow(/already replaying \(replay 1\)/);
    await t.stopIntegration();
    await jobs.cancel(1);
    expect(() => jobs.start('k', { offset: '0' })).toThrow(expect.objectContaining({ code: 'REPLAY_NOT_RUNNING', status: 409 }));
  });

  it("ends failed with the connector's error when its reader fails", async () => {
    const t = await setUp(countingSource(1000, [], { failAt: 200 }));
    const jobs = t.open();
    cleanups.push(() => jobs.close());
    jobs.start('k', { offset: '0' });
    await until(() => jobs.get(1)!.state === 'failed', 5000, 'failed');
    expect(jobs.get(1)).toMatchObject({ read: 200, stored: 200 });
    expect(jobs.get(1)!.detail).toMatch(/replay reader failed: the broker said no/);
  });
});
