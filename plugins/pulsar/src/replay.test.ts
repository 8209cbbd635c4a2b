import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isTbiError, type Integration, type RawMessage, type ReplayBatch, type ReplayRequest, type UplinkOutcome } from '@tbi/plugin-api';
import { bareContext } from '@tbi/plugin-testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { instance, produce, topicOf, unique, WEB_URL } from '../test/harness.js';
import { pulsarConfigSchema, type PulsarConfig } from './config.js';
import type { PulsarDriver } from './driver/types.js';
import { websocketDriver } from './driver/websocket.js';
import { decodeMessageId, formatMessageId } from './message-id.js';
import { createPulsarIntegration } from './plugin.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
beforeAll(() => instance().start(), 300_000);

const adminPath = (topic: string) => `${WEB_URL}/admin/v2/${topic.replace('://', '/')}`;
async function admin<T>(topic: string, suffix: string, method = 'GET'): Promise<T> {
  const response = await fetch(`${adminPath(topic)}${suffix}`, { method });
  if (!response.ok) throw new Error(`${method} ${suffix}: HTTP ${response.status} ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}
interface Stats {
  subscriptions: Record<string, { msgBacklog: number; isDurable: boolean }>;
}
const subscriptionNames = async (topic: string) => Object.keys((await admin<Stats>(topic, '/stats')).subscriptions).sort();

function config(topic: string, extra: Record<string, unknown> = {}): PulsarConfig {
  return pulsarConfigSchema.parse({
    webServiceUrl: WEB_URL,
    uplink: { topics: [topic], subscriptionName: 'live', subscriptionType: 'Shared', initialPosition: 'Earliest', batch: { maxMessages: 200, timeoutMs: 5 } },
    ...extra,
  }) as PulsarConfig;
}

const recording = () => {
  const submitted: RawMessage[] = [];
  const uplink = {
    submit: async (messages: readonly RawMessage[]) => {
      submitted.push(...messages);
      return messages.map(() => ({ status: 'stored', records: [] }) as UplinkOutcome);
    },
    reject: async () => {},
  };
  return { submitted, uplink };
};

/** Counts the readers the driver opens and closes. */
function countingDriver() {
  const base = websocketDriver(WEB_URL);
  const counts = { opened: 0, closed: 0 };
  const driver: PulsarDriver = {
    ...base,
    reader: async (options) => {
      const reader = await base.reader!(options);
      counts.opened++;
      return {
        next: (id) => reader.next(id),
        close: async () => {
          counts.closed++;
          await reader.close();
        },
      };
    },
  };
  return { driver, counts };
}

async function integration(c: PulsarConfig, driver: PulsarDriver = websocketDriver(WEB_URL), rec = recording()) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tbi-pulsar-replay-'));
  const i: Integration = createPulsarIntegration(bareContext({ type: 'pulsar', config: c, uplink: rec.uplink as never, dataDir }), driver);
  return { integration: i, rec };
}

const request = (r: Partial<ReplayRequest>): ReplayRequest => ({ from: { time: 0 }, maxBatch: 500, signal: new AbortController().signal, ...r });
async function collect(i: Integration, r: ReplayRequest): Promise<ReplayBatch[]> {
  const batches: ReplayBatch[] = [];
  for await (const b of i.replay!(r)) batches.push(b);
  return batches;
}
const payloads = (batches: ReplayBatch[]) => batches.flatMap((b) => b.messages.map((m) => m.payload.toString()));
const band = (name: string, n: number) => Array.from({ length: n }, (_, k) => `${name}${k}`);

/** A fresh topic with three bands of messages, published more than a second apart; the live subscription exists first. */
async function threeBands(sizes: [number, number, number]) {
  const topic = topicOf(unique('replay'));
  await admin(topic, '', 'PUT');
  await admin(topic, '/subscription/live', 'PUT');
  const starts: number[] = [];
  for (const [k, name] of ['a', 'b', 'c'].entries()) {
    starts.push(Date.now());
    await produce(topic, band(name, sizes[k]!));
    await sleep(1100);
  }
  return { topic, starts };
}

/** Produces with the WebSocket producer's batching on: entries of up to `perBatch` messages. */
async function produceBatched(topic: string, messages: string[], perBatch: number): Promise<void> {
  const query = `batchingEnabled=true&batchingMaxMessages=${perBatch}&batchingMaxPublishDelay=50`;
  const ws = new WebSocket(`${WEB_URL.replace(/^http/, 'ws')}/ws/v2/producer/${topic.replace('://', '/')}?${query}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let acked = 0;
  await new Promise<void>((resolve) => {
    ws.on('message', () => ++acked === messages.length && resolve());
    for (const [k, m] of messages.entries()) ws.send(JSON.stringify({ payload: Buffer.from(m).toString('base64'), context: String(k) }));
  });
  ws.close();
}

describe('replay of a Pulsar topic (real broker, WebSocket reader)', { timeout: 90_000 }, () => {
  it('replays the middle band of 2000 messages by publish time, exactly once each and in order, as the live path maps them', async () => {
    const { topic, starts } = await threeBands([700, 600, 700]);
    const { integration: i } = await integration(config(topic));
    const batches = await collect(i, request({ from: { time: starts[1]! }, to: { time: starts[2]! }, maxBatch: 128 }));
    expect(payloads(batches)).toEqual(band('b', 600));
    expect(batches.every((b) => b.messages.length <= 128)).toBe(true);
    const first = batches[0]!.messages[0]!;
    expect(first.sourceId).toBe(`${topic}@${formatMessageId(decodeMessageId(first.metadata.messageId!)!)}`);
    expect(first.metadata).toMatchObject({ topic, redeliveryCount: '0' });
    const times = batches.flatMap((b) => b.messages.map((m) => Number(m.metadata.publishTime)));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(starts[1]!);
    expect(Math.max(...times)).toBeLessThan(starts[2]!);
    const last = JSON.parse(batches.at(-1)!.checkpoint);
    expect(last).toMatchObject({ topic, read: 600, fromTime: starts[1], toTime: starts[2] });
    expect(batches.at(-1)!.position).toMatch(/^topic "persistent:\/\/public\/default\/replay-.*" at \d+:\d+ \(600 read, end \d+:\d+\)$/);

    // The whole topic from time 0, and from past its end: nothing.
    expect(payloads(await collect(i, request({ maxBatch: 500 })))).toEqual([...band('a', 700), ...band('b', 600), ...band('c', 700)]);
    expect(await collect(i, request({ from: { time: Date.now() + 60_000 } }))).toEqual([]);
  });

  it('replays by message id (ledger:entry or the base64 messageId), `to` exclusive', async () => {
    const { topic } = await threeBands([10, 10, 10]);
    const { integration: i } = await integration(config(topic));
    const all = (await collect(i, request({}))).flatMap((b) => b.messages);
    const colon = (m: RawMessage) => formatMessageId(decodeMessageId(m.metadata.messageId!)!);
    const slice = await collect(i, request({ from: { offset: colon(all[5]!) }, to: { offset: all[12]!.metadata.messageId! } }));
    expect(payloads(slice)).toEqual(['a5', 'a6', 'a7', 'a8', 'a9', 'b0', 'b1']);
    expect(payloads(await collect(i, request({ from: { offset: all[25]!.metadata.messageId! } })))).toEqual(['c5', 'c6', 'c7', 'c8', 'c9']);
  });

  it('without `to` ends at the topic’s last message as of the start while a publisher keeps publishing', async () => {
    const { topic } = await threeBands([200, 200, 200]);
    const { integration: i } = await integration(config(topic));
    let publishing = true;
    let sent = 0;
    const publisher = (async () => {
      while (publishing) {
        await produce(topic, [`live${sent++}`]);
        await sleep(5);
      }
    })();
    await sleep(300);
    const batches = await collect(i, request({ maxBatch: 100 }));
    await sleep(300);
    publishing = false;
    await publisher;
    const got = payloads(batches);
    expect(got.slice(0, 600)).toEqual([...band('a', 200), ...band('b', 200), ...band('c', 200)]);
    expect(got.slice(600)).toEqual(Array.from({ length: got.length - 600 }, (_, k) => `live${k}`));
    expect(sent).toBeGreaterThan(got.length - 600); // the publisher went on after the tail was fixed
  });

  it('resumes after a mid checkpoint (inside producer batches) with no gap and no repeat, even with more published since', async () => {
    const topic = topicOf(unique('replay-batched'));
    const sent = band('m', 1000);
    await produceBatched(topic, sent, 10);
    const { integration: i } = await integration(config(topic));
    const firstRun: ReplayBatch[] = [];
    for await (const b of i.replay!(request({ maxBatch: 37 }))) {
      firstRun.push(b);
      if (firstRun.length === 9) break; // a host restart after nine stored batches: 333 messages, mid-entry
    }
    expect(JSON.parse(firstRun.at(-1)!.checkpoint).after).toMatch(/^\d+:\d+:\d+$/); // inside a batched entry
    await produce(topic, ['later']);
    const rest = await collect(i, request({ maxBatch: 37, resume: firstRun.at(-1)!.checkpoint }));
    expect(payloads([...firstRun, ...rest])).toEqual(sent);
    const ids = [...firstRun, ...rest].flatMap((b) => b.messages.map((m) => m.sourceId));
    expect(new Set(ids).size).toBe(1000);
    // Resumed from the very last checkpoint: nothing is left, and it ends without waiting for traffic.
    expect(await collect(i, request({ resume: rest.at(-1)!.checkpoint }))).toEqual([]);
  });

  it('leaves the live subscription alone: backlog and cursor unchanged, and it then gets every message with the same sourceIds', async () => {
    const { topic } = await threeBands([300, 300, 400]);
    const cursor = async () => (await admin<{ cursors: Record<string, { markDeletePosition: string }> }>(topic, '/internalStats')).cursors.live;
    const backlog = async () => (await admin<Stats>(topic, '/stats')).subscriptions.live!.msgBacklog;
    const before = { cursor: await cursor(), backlog: await backlog() };
    expect(before.backlog).toBe(1000);
    const rec = recording();
    const { integration: i } = await integration(config(topic), websocketDriver(WEB_URL), rec);
    const replayed = (await collect(i, request({}))).flatMap((b) => b.messages);
    expect(replayed).toHaveLength(1000);
    expect({ cursor: await cursor(), backlog: await backlog() }).toEqual(before);
    expect(await subscriptionNames(topic)).toEqual(['live']); // the reader's cursor went with it

    await i.start();
    try {
      const deadline = Date.now() + 20_000;
      while (rec.submitted.length < 1000 && Date.now() < deadline) await sleep(50);
      // Batches of a Shared subscription may be submitted out of order: compare as sets.
      expect(rec.submitted.map((m) => m.sourceId).sort()).toEqual(replayed.map((m) => m.sourceId).sort());
    } finally {
      await i.stop();
    }
  });

  it('cancel (return or abort) closes the reader, and the broker drops its cursor', async () => {
    const { topic } = await threeBands([500, 10, 10]);
    const { driver, counts } = countingDriver();
    const { integration: i } = await integration(config(topic), driver);
    for await (const _ of i.replay!(request({ maxBatch: 5 }))) break;
    expect(counts).toEqual({ opened: 1, closed: 1 });

    const abort = new AbortController();
    let error: unknown;
    let seen = 0;
    try {
      for await (const _ of i.replay!(request({ maxBatch: 5, signal: abort.signal }))) {
        seen++;
        expect((await subscriptionNames(topic)).filter((s) => s.startsWith('reader-'))).toHaveLength(1);
        abort.abort();
      }
    } catch (e) {
      error = e;
    }
    expect(seen).toBe(1);
    expect(isTbiError(error) && error.code).toBe('SHUTTING_DOWN');
    expect(counts).toEqual({ opened: 2, closed: 2 });
    const deadline = Date.now() + 5000;
    while ((await subscriptionNames(topic)).length > 1 && Date.now() < deadline) await sleep(100);
    expect(await subscriptionNames(topic)).toEqual(['live']);
  });

  it('refuses clearly: no single topic, a missing topic, a bad range or checkpoint, the native driver', async () => {
    const two = config(topicOf('x'), { uplink: { topics: [topicOf('x'), topicOf('y')], subscriptionName: 'live' } });
    const { integration: several } = await integration(two);
    await expect(collect(several, request({}))).rejects.toThrow(/cannot replay: it consumes several topics .* name the one to replay in replay\.topic/);

    const missing = topicOf(unique('missing'));
    const { integration: i } = await integration(config(missing));
    await expect(collect(i, request({}))).rejects.toMatchObject({ code: 'PULSAR_REPLAY_NO_TOPIC', message: expect.stringMatching(/does not exist/) });
    await expect(collect(i, request({ from: { offset: '1200' } }))).rejects.toThrow(/replay\.from\.offset: expected a Pulsar message id/);
    await expect(collect(i, request({ resume: '{"topic":"other"}' }))).rejects.toThrow(/it is for topic "other"/);

    const { reader: _reader, ...withoutReader } = websocketDriver(WEB_URL);
    const { integration: native } = await integration(config(missing), { ...withoutReader, name: 'native' });
    await expect(collect(native, request({}))).rejects.toMatchObject({ code: 'PULSAR_REPLAY_UNSUPPORTED' });
  });

  it('reads the topic named in replay.topic', async () => {
    const { topic } = await threeBands([5, 5, 5]);
    const c = config(topicOf('other'), { uplink: { topics: [topicOf('other'), topicOf('more')], subscriptionName: 'live' }, replay: { topic } });
    const { integration: i } = await integration(c);
    expect(payloads(await collect(i, request({})))).toEqual([...band('a', 5), ...band('b', 5), ...band('c', 5)]);
  });
});
