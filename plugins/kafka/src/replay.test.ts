import { Admin } from '@platformatic/kafka';
import type { Integration, ReplayBatch, ReplayRequest } from '@tbi/plugin-api';
import { afterAll, describe, expect, it } from 'vitest';
import { committedOffsets, createTopic, PLAINTEXT, produce, startIntegration, unique, waitFor, type Harness } from '../test/harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const harnesses: Harness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.stop();
});

const request = (r: Partial<ReplayRequest>): ReplayRequest => ({ from: { offset: 'earliest' }, maxBatch: 500, signal: new AbortController().signal, ...r });
async function collect(i: Integration, r: ReplayRequest): Promise<ReplayBatch[]> {
  const batches: ReplayBatch[] = [];
  for await (const b of i.replay!(r)) batches.push(b);
  return batches;
}
const values = (batches: ReplayBatch[]) => batches.flatMap((b) => b.messages.map((m) => m.payload.toString()));
const sorted = (list: string[]) => [...list].sort();

/** A topic of `partitions` with three bands of `n` records each, produced 300 ms apart (record timestamps are the producer's). */
async function threeBands(n: number, partitions = 2) {
  const topic = unique('replay');
  await createTopic(topic, partitions);
  const starts: number[] = [];
  for (const band of ['a', 'b', 'c']) {
    await sleep(300);
    starts.push(Date.now());
    await produce(
      topic,
      Array.from({ length: n }, (_, k) => ({ key: `dev-${k % 5}`, value: `${band}${k}` })),
    );
  }
  return { topic, starts };
}

/** An integration on `topic` whose live consumer is not started (a replay does not need it). */
async function integration(topic: string, groupId = unique('replay-group')): Promise<Harness> {
  const h = await startIntegration({ bootstrapServers: [PLAINTEXT], uplink: { topics: [topic], groupId, lagIntervalMs: 0 } });
  harnesses.push(h);
  return h;
}

describe('replay of Kafka topics (real broker)', { timeout: 90_000 }, () => {
  it('replays the middle band by time across partitions, exactly once each, in offset order per partition, with the live path’s sourceId', async () => {
    const { topic, starts } = await threeBands(60);
    const h = await integration(topic);
    const batches = await collect(h.integration, request({ from: { time: starts[1]! }, to: { time: starts[2]! }, maxBatch: 16 }));
    const got = values(batches);
    expect(sorted(got)).toEqual(sorted(Array.from({ length: 60 }, (_, k) => `b${k}`)));
    expect(batches.every((b) => b.messages.length <= 16)).toBe(true);
    const messages = batches.flatMap((b) => b.messages);
    for (const partition of ['0', '1']) {
      const offsets = messages.filter((m) => m.metadata.partition === partition).map((m) => Number(m.metadata.offset));
      expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
    }
    const first = messages[0]!;
    expect(first.sourceId).toBe(`${topic}/${first.metadata.partition}/${first.metadata.offset}`);
    expect(first.metadata).toMatchObject({ topic, key: expect.stringMatching(/^dev-/) });
    expect(batches.at(-1)!.total).toBe(60);
    expect(batches.at(-1)!.position).toMatch(/^60 of 60 records; /);
  });

  it('replays by offset notation; `to` is exclusive; from the end gives nothing', async () => {
    const { topic } = await threeBands(10, 1);
    const h = await integration(topic);
    expect(values(await collect(h.integration, request({ from: { offset: '5' }, to: { offset: '0:12' } })))).toEqual([
      'a5',
      'a6',
      'a7',
      'a8',
      'a9',
      'b0',
      'b1',
    ]);
    expect(values(await collect(h.integration, request({ from: { offset: `${topic}:0:25` } })))).toEqual(['c5', 'c6', 'c7', 'c8', 'c9']);
    expect(values(await collect(h.integration, request({ from: { offset: 'latest' } })))).toEqual([]);
  });

  it('ends at the end as of its start while a producer keeps producing', async () => {
    const { topic } = await threeBands(20, 1);
    const h = await integration(topic);
    let producing = true;
    let sent = 0;
    const producer = (async () => {
      while (producing) {
        await produce(topic, [{ value: `live${sent++}` }]);
        await sleep(5);
      }
    })();
    await waitFor(() => sent > 3, 10_000, 'live records');
    const batches = await collect(h.integration, request({ maxBatch: 16 }));
    await waitFor(() => sent > 10, 20_000, 'more live records');
    producing = false;
    await producer;
    const got = values(batches);
    const end = Number(JSON.parse(batches.at(-1)!.checkpoint).partitions[0][4]);
    expect(got.length).toBe(end);
    expect(got.slice(0, 60)).toEqual(['a', 'b', 'c'].flatMap((b) => Array.from({ length: 20 }, (_, k) => `${b}${k}`)));
    expect(got.slice(60)).toEqual(Array.from({ length: end - 60 }, (_, k) => `live${k}`));
    expect(sent).toBeGreaterThan(end - 60);
  });

  it('resumes after a checkpoint with no gap and no repeat', async () => {
    const { topic } = await threeBands(30, 3);
    const h = await integration(topic);
    const firstRun: ReplayBatch[] = [];
    for await (const b of h.integration.replay!(request({ maxBatch: 7 }))) {
      firstRun.push(b);
      if (firstRun.length === 4) break; // a host restart after four stored batches
    }
    await produce(topic, [{ value: 'later' }]);
    const rest = await collect(h.integration, request({ maxBatch: 7, resume: firstRun.at(-1)!.checkpoint }));
    const all = values([...firstRun, ...rest]);
    expect(all.length).toBe(90);
    expect(sorted(all)).toEqual(sorted(['a', 'b', 'c'].flatMap((b) => Array.from({ length: 30 }, (_, k) => `${b}${k}`))));
  });

  it('leaves the live group alone: the live consumer gets everything once and its committed offsets stay its own', async () => {
    const { topic } = await threeBands(10, 1);
    const groupId = unique('live-group');
    const h = await integration(topic, groupId);
    await waitFor(() => h.uplink.stored.size === 30, 30_000, 'the live consumer');
    await waitFor(async () => (await committedOffsets(groupId, topic, 1))[0] === 30n, 30_000, 'the live commit');
    expect(values(await collect(h.integration, request({ from: { offset: '0' } }))).length).toBe(30);
    expect(await committedOffsets(groupId, topic, 1)).toEqual([30n]);
    await produce(topic, [{ value: 'after' }]);
    await waitFor(() => h.uplink.stored.size === 31, 30_000, 'the live record after the replay');
    expect(h.uplink.duplicates).toBe(0);
    await waitFor(async () => (await committedOffsets(groupId, topic, 1))[0] === 31n, 30_000, 'the next live commit');
  });

  it('cancel by abort ends the replay and deletes its group; a bad offset fails before connecting', async () => {
    const { topic } = await threeBands(200, 1);
    const h = await integration(topic, unique('cancel-group'));
    const controller = new AbortController();
    const iterator = h.integration.replay!(request({ maxBatch: 10, signal: controller.signal }))[Symbol.asyncIterator]();
    expect((await iterator.next()).value.messages.length).toBe(10);
    controller.abort();
    await expect(iterator.next()).rejects.toThrow(/cancelled/);
    const admin = new Admin({ clientId: 'test-groups', bootstrapBrokers: [PLAINTEXT] });
    try {
      const groups = [...(await admin.listGroups()).keys()];
      expect(groups.filter((g) => g.startsWith(`${h.config.uplink!.groupId}-replay-`))).toEqual([]);
    } finally {
      await admin.close();
    }
    await expect(collect(h.integration, request({ from: { offset: 'x:y' } }))).rejects.toThrow(/replay\.from\.offset/);
  });
});
