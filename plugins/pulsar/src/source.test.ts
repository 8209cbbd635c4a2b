// The stall watchdog of the source, on a stand-in driver and fake timers (the real broker's
// stall cannot be produced at will; test/ covers the source against the real broker).
import type { IntegrationContext } from '@tbi/plugin-api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pulsarConfigSchema, type PulsarConfig } from './config.js';
import type { ConsumerOptions, PulsarDriver } from './driver/types.js';
import { PulsarSource } from './source.js';

function setup(backlogs: number[]) {
  const subscribed: ConsumerOptions[] = [];
  const closed: number[] = [];
  let polls = 0;
  const driver: PulsarDriver = {
    name: 'stand-in',
    async consumer(options) {
      subscribed.push(options);
      const n = subscribed.length;
      return { ack() {}, negativeAck() {}, close: async () => void closed.push(n) };
    },
    producer: () => Promise.reject(new Error('not used')),
    backlog: async () => backlogs[Math.min(polls++, backlogs.length - 1)],
  };
  const counters = new Map<string, number>();
  const metric = (name: string) => ({ inc: (_l?: unknown, v = 1) => void counters.set(name, (counters.get(name) ?? 0) + v), set() {}, dec() {}, observe() {} });
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
  const config = pulsarConfigSchema.parse({ webServiceUrl: 'http://127.0.0.1:1', uplink: { topics: ['t'], subscriptionName: 's' } });
  const ctx = {
    name: 'unit',
    type: 'pulsar',
    config,
    metadata: {},
    logger: silent,
    clock: { now: () => Date.now() },
    metrics: { counter: metric, gauge: metric, histogram: metric },
    uplink: { submit: async () => [], reject: async () => {} },
    signal: new AbortController().signal,
    dataDir: '/tmp',
    configDir: '/tmp',
  } as unknown as IntegrationContext<PulsarConfig>;
  const source = new PulsarSource(ctx, config.uplink!, driver);
  return { source, subscribed, closed, counters };
}

describe('stall watchdog', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reconnects when the backlog does not go down and nothing arrives, within about 12 s', async () => {
    // A fixed 10 s poll with 10 s of quiet took 20–30 s.
    const { source, subscribed, closed, counters } = setup([5]);
    await source.start();
    await vi.advanceTimersByTimeAsync(12_500);
    expect(subscribed.length).toBe(2);
    expect(closed).toEqual([1]);
    expect(counters.get('tbi_pulsar_stalled_reconnects_total')).toBe(1);
    await source.stop();
  });

  it('re-checks a topic that went quiet with a backlog after 2 s, and reconnects if it did not go down', async () => {
    // Polls at 0 s (not quiet yet), 10 s (quiet, backlog went down: suspect), 12 s (no change).
    const { source, subscribed } = setup([9, 5, 5]);
    await source.start();
    await vi.advanceTimersByTimeAsync(11_000);
    expect(subscribed.length).toBe(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(subscribed.length).toBe(2);
    await source.stop();
  });

  it('leaves the consumer alone while the backlog goes down, or once it is empty', async () => {
    const { source, subscribed } = setup([50, 40, 30, 0, 0, 0]);
    await source.start();
    await vi.advanceTimersByTimeAsync(65_000);
    expect(subscribed.length).toBe(1);
    await source.stop();
  });

  it('leaves it alone while a received message is not settled (the platform is slow)', async () => {
    const { source, subscribed } = setup([5]);
    await source.start();
    subscribed[0]!.onMessage({ messageId: 'm1', topic: 'persistent://public/default/t', payload: Buffer.from('{}'), properties: {}, redeliveryCount: 0 });
    // submit resolves with no outcome for it, so it stays outstanding
    await vi.advanceTimersByTimeAsync(45_000);
    expect(subscribed.length).toBe(1);
    await source.stop();
  });
});
