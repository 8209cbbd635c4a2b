import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isTbiError, type Integration, type RawMessage, type ReplayBatch, type ReplayRequest, type UplinkOutcome } from '@tbi/plugin-api';
import { bareContext } from '@tbi/plugin-testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteQueues, publish, unique, URL, withChannel } from '../test/harness.js';
import { rabbitmqConfigSchema, type RabbitmqConfig } from './config.js';
import { amqplibDriver } from './driver/amqplib.js';
import type { AmqpDriver } from './driver/types.js';
import { createRabbitmqIntegration } from './plugin.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const streams: string[] = [];
afterAll(() => deleteQueues(...streams));

/** A stream declared by the integration's topology, consumed (or not) by its uplink. */
function streamConfig(stream: string, extra: Record<string, unknown> = {}): RabbitmqConfig {
  return rabbitmqConfigSchema.parse({
    url: URL,
    topology: { queues: [{ name: stream, arguments: { 'x-queue-type': 'stream' } }] },
    uplink: { queues: [stream] },
    ...extra,
  }) as RabbitmqConfig;
}

interface Recording {
  submitted: RawMessage[];
  uplink: { submit(m: readonly RawMessage[]): Promise<UplinkOutcome[]>; reject(): Promise<void> };
}
const recording = (): Recording => {
  const submitted: RawMessage[] = [];
  return {
    submitted,
    uplink: {
      submit: async (messages) => {
        submitted.push(...messages);
        return messages.map(() => ({ status: 'stored', records: [] }) as UplinkOutcome);
      },
      reject: async () => {},
    },
  };
};

/** Counts the channels and connections the driver opens and closes. */
function countingDriver() {
  const base = amqplibDriver();
  const counts = { channels: 0, channelsClosed: 0, connections: 0, connectionsClosed: 0 };
  const driver: AmqpDriver = {
    async connect(options, name) {
      const connection = await base.connect(options, name);
      counts.connections++;
      return {
        ...connection,
        channel: async () => {
          const ch = await connection.channel();
          counts.channels++;
          const close = ch.close.bind(ch);
          ch.close = async () => {
            counts.channelsClosed++;
            await close();
          };
          return ch;
        },
        confirmChannel: () => connection.confirmChannel(),
        onClose: (l) => connection.onClose(l),
        onBlocked: (l) => connection.onBlocked(l),
        close: async () => {
          counts.connectionsClosed++;
          await connection.close();
        },
      };
    },
  };
  return { driver, counts };
}

async function integration(config: RabbitmqConfig, driver: AmqpDriver = amqplibDriver(), rec = recording()) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tbi-rabbitmq-replay-'));
  const i: Integration = await createRabbitmqIntegration(bareContext({ type: 'rabbitmq', config, uplink: rec.uplink as never, dataDir }), driver);
  return { integration: i, dataDir, rec };
}

const request = (r: Partial<ReplayRequest>): ReplayRequest => ({ from: { offset: '0' }, maxBatch: 500, signal: new AbortController().signal, ...r });
async function collect(i: Integration, r: ReplayRequest): Promise<ReplayBatch[]> {
  const batches: ReplayBatch[] = [];
  for await (const b of i.replay!(r)) batches.push(b);
  return batches;
}
const bodies = (batches: ReplayBatch[]) => batches.flatMap((b) => b.messages.map((m) => m.payload.toString()));

/** A stream with three bands of `n` messages, published more than a second apart. */
async function threeBands(n: number) {
  const stream = unique('replay');
  streams.push(stream);
  await withChannel((ch) => ch.assertQueue(stream, { durable: true, arguments: { 'x-queue-type': 'stream' } }).then(() => {}));
  const starts: number[] = [];
  for (const band of ['a', 'b', 'c']) {
    starts.push(Date.now());
    await publish(
      '',
      stream,
      Array.from({ length: n }, (_, k) => ({ body: `${band}${k}` })),
    );
    await sleep(1300);
  }
  return { stream, starts };
}

describe('replay of a RabbitMQ stream (real broker)', { timeout: 60_000 }, () => {
  it('replays the middle band by time, exactly and in order, with the live path’s metadata and sourceId', async () => {
    const { stream, starts } = await threeBands(30);
    const { integration: i } = await integration(streamConfig(stream));
    const batches = await collect(i, request({ from: { time: starts[1]! }, to: { time: starts[2]! }, maxBatch: 7 }));
    expect(bodies(batches)).toEqual(Array.from({ length: 30 }, (_, k) => `b${k}`));
    expect(batches.every((b) => b.messages.length <= 7)).toBe(true);
    const first = batches[0]!.messages[0]!;
    expect(first.sourceId).toBe(`${stream}@30`);
    expect(first.metadata).toMatchObject({ queue: stream, streamOffset: '30', routingKey: stream, exchange: '', redelivered: 'false' });
    expect(batches.at(-1)!.total).toBe(30);
    expect(JSON.parse(batches.at(-1)!.checkpoint)).toMatchObject({ stream, next: 60, start: 30, end: 60 });
  });

  it('replays by offset, to exclusive; from past the end gives nothing', async () => {
    const { stream } = await threeBands(10);
    const { integration: i } = await integration(streamConfig(stream));
    expect(bodies(await collect(i, request({ from: { offset: '5' }, to: { offset: '12' } })))).toEqual(['a5', 'a6', 'a7', 'a8', 'a9', 'b0', 'b1']);
    expect(bodies(await collect(i, request({ from: { offset: '25' } })))).toEqual(['c5', 'c6', 'c7', 'c8', 'c9']);
    expect(await collect(i, request({ from: { offset: '30' } }))).toEqual([]);
  });

  it('without `to` ends at the end as of the start while a publisher keeps publishing', async () => {
    const { stream } = await threeBands(20);
    const { integration: i } = await integration(streamConfig(stream));
    let publishing = true;
    let sent = 0;
    const publisher = (async () => {
      while (publishing) {
        await publish('', stream, [{ body: `live${sent++}` }]);
        await sleep(5);
      }
    })();
    await sleep(200);
    const batches = await collect(i, request({ maxBatch: 16 }));
    publishing = false;
    await publisher;
    const got = bodies(batches);
    const end = JSON.parse(batches.at(-1)!.checkpoint).end as number;
    expect(got.length).toBe(end);
    expect(got.slice(0, 60)).toEqual(['a', 'b', 'c'].flatMap((b) => Array.from({ length: 20 }, (_, k) => `${b}${k}`)));
    expect(got.slice(60)).toEqual(Array.from({ length: end - 60 }, (_, k) => `live${k}`));
    expect(sent).toBeGreaterThan(end - 60); // the publisher went on after the end was fixed
  });

  it('resumes after a checkpoint with no gap and no repeat, even with more published since', async () => {
    const { stream } = await threeBands(10);
    const { integration: i } = await integration(streamConfig(stream));
    const firstRun: ReplayBatch[] = [];
    for await (const b of i.replay!(request({ maxBatch: 4 }))) {
      firstRun.push(b);
      if (firstRun.length === 3) break; // a host restart after three stored batches
    }
    await publish('', stream, [{ body: 'later' }]);
    const rest = await collect(i, request({ maxBatch: 4, resume: firstRun.at(-1)!.checkpoint }));
    const all = bodies([...firstRun, ...rest]);
    expect(all).toEqual(['a', 'b', 'c'].flatMap((b) => Array.from({ length: 10 }, (_, k) => `${b}${k}`)));
    const offsets = [...firstRun, ...rest].flatMap((b) => b.messages.map((m) => Number(m.metadata.streamOffset)));
    expect(offsets).toEqual(Array.from({ length: 30 }, (_, k) => k));
  });

  it('leaves the live consumer alone: it gets every message once and its stored offset is its own', async () => {
    const { stream } = await threeBands(10);
    const rec = recording();
    const { integration: i, dataDir } = await integration(streamConfig(stream), amqplibDriver(), rec);
    await i.start();
    try {
      const deadline = Date.now() + 10_000;
      while (rec.submitted.length < 30 && Date.now() < deadline) await sleep(50);
      expect(rec.submitted.length).toBe(30);
      await sleep(400); // the offsets file is written within 200 ms
      const before = await readFile(path.join(dataDir, 'rabbitmq-stream-offsets.json'), 'utf8');
      expect(JSON.parse(before)).toEqual({ [stream]: 29 });
      expect(bodies(await collect(i, request({ from: { offset: '0' } }))).length).toBe(30);
      await publish('', stream, [{ body: 'after' }]);
      while (rec.submitted.length < 31 && Date.now() < deadline) await sleep(50);
      expect(rec.submitted.map((m) => m.payload.toString()).slice(29)).toEqual(['c9', 'after']);
      await sleep(400);
      expect(JSON.parse(await readFile(path.join(dataDir, 'rabbitmq-stream-offsets.json'), 'utf8'))).toEqual({ [stream]: 30 });
    } finally {
      await i.stop();
    }
  });

  it('cancel (return or abort) closes the replay channel and connection', async () => {
    const { stream } = await threeBands(20);
    const { driver, counts } = countingDriver();
    const { integration: i } = await integration(streamConfig(stream), driver);
    for await (const _ of i.replay!(request({ maxBatch: 5 }))) break;
    expect(counts).toEqual({ channels: 2, channelsClosed: 2, connections: 1, connectionsClosed: 1 }); // probe + reader

    const abort = new AbortController();
    let error: unknown;
    let seen = 0;
    try {
      for await (const _ of i.replay!(request({ maxBatch: 5, signal: abort.signal }))) {
        seen++;
        abort.abort();
      }
    } catch (e) {
      error = e;
    }
    expect(seen).toBe(1);
    expect(isTbiError(error) && error.code).toBe('SHUTTING_DOWN');
    expect(counts).toEqual({ channels: 4, channelsClosed: 4, connections: 2, connectionsClosed: 2 });
  });

  it('refuses with a clear error when there is no stream, and on a bad range', async () => {
    const queue = unique('classic');
    streams.push(queue);
    const config = rabbitmqConfigSchema.parse({ url: URL, topology: { queues: [{ name: queue }] }, uplink: { queues: [queue] } }) as RabbitmqConfig;
    const { integration: i } = await integration(config);
    await expect(collect(i, request({}))).rejects.toThrow(
      new RegExp(`cannot replay: none of its queues \\(${queue}\\) is a stream .* name it in replay.stream`),
    );
    const { stream } = { stream: unique('replay') };
    const { integration: j } = await integration(streamConfig(stream));
    await expect(collect(j, request({ from: { offset: 'x' } }))).rejects.toThrow(/replay\.from\.offset: expected a stream offset/);
    await expect(collect(j, request({ resume: '{"stream":"other","next":1,"start":0,"end":2}' }))).rejects.toThrow(/it is for stream "other"/);
  });

  it('reads the stream named in replay.stream for a classic queue bound beside it', async () => {
    const { stream } = await threeBands(5);
    const queue = unique('classic');
    streams.push(queue);
    const config = rabbitmqConfigSchema.parse({
      url: URL,
      topology: { queues: [{ name: queue }] },
      uplink: { queues: [queue] },
      replay: { stream },
    }) as RabbitmqConfig;
    const { integration: i } = await integration(config);
    const batches = await collect(i, request({ from: { offset: '10' } }));
    expect(bodies(batches)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(batches[0]!.messages[0]!.sourceId).toBe(`${stream}@10`);
  });
});
