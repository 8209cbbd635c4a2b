import { afterEach, describe, expect, it } from 'vitest';
import { ShutdownError, type Integration, type UplinkOutcome } from '@tbi/plugin-api';
import { functionConverter, jsonDecode, message, until } from '../../test/pipeline-support/fakes.js';
import { unitPipeline } from '../../test/pipeline-support/unit-pipeline.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(options: Parameters<typeof unitPipeline>[0] = {}) {
  const env = await unitPipeline(options);
  cleanups.push(() => env.pipeline.close());
  return env;
}

function integration(events: string[] = []): Integration {
  return {
    start: async () => {},
    stop: async () => {},
    health: () => ({ status: 'up' }),
    pause: () => events.push('pause'),
    resume: () => events.push('resume'),
  };
}

describe('uplink pipeline', () => {
  it('coalesces many one-message submits into few converter calls and ingest transactions', async () => {
    const { pipeline, platform } = await setup();
    const converter = functionConverter(jsonDecode);
    const channel = pipeline.attach({ name: 'mqtt-1', type: 'mqtt', metadata: {}, uplink: converter, downlinkMode: 'none' });
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => channel.uplink.submit([message(`d${i}`, i)])));
    expect(results.every(([o]) => o?.status === 'stored')).toBe(true);
    expect(converter.batches.reduce((a, b) => a + b, 0)).toBe(300);
    expect(converter.batches.length).toBeLessThanOrEqual(3);
    expect(platform.calls.length).toBe(converter.batches.length);
    expect(platform.stored.map((i) => i.records[0]!.deviceName)).toEqual(Array.from({ length: 300 }, (_, i) => `d${i}`));
  });

  it('splits batches at maxMessages and keeps the order of the store', async () => {
    const { pipeline, platform } = await setup({ batch: { maxMessages: 7 } });
    const converter = functionConverter(jsonDecode);
    const channel = pipeline.attach({ name: 'k', type: 'kafka', metadata: {}, uplink: converter, downlinkMode: 'none' });
    const outcomes = await channel.uplink.submit(Array.from({ length: 30 }, (_, i) => message(`d${i}`)));
    expect(outcomes).toHaveLength(30);
    expect(Math.max(...converter.batches)).toBe(7);
    expect(platform.stored.map((i) => i.records[0]!.deviceName)).toEqual(Array.from({ length: 30 }, (_, i) => `d${i}`));
  });

  it('gives the converter the integration metadata under the message metadata, and passes sourceId on', async () => {
    const { pipeline, platform } = await setup();
    const seen: Record<string, string>[] = [];
    const converter = functionConverter((input) => {
      seen.push(input.metadata);
      return jsonDecode(input);
    });
    const channel = pipeline.attach({
      name: 'http-1',
      type: 'http',
      metadata: { site: 'north', topic: 'integration' },
      uplink: converter,
      downlinkMode: 'none',
    });
    await channel.uplink.submit([message('a', 1, { sourceId: 'p/0/1', metadata: { topic: 'message' } })]);
    expect(seen[0]).toEqual({ site: 'north', topic: 'message', integrationName: 'http-1' });
    expect(platform.stored[0]).toMatchObject({ integration: 'http-1', sourceId: 'p/0/1' });
  });

  it('resolves a submit only after the platform committed', async () => {
    const { pipeline, platform } = await setup();
    let open!: () => void;
    platform.gate = new Promise((r) => (open = r));
    const channel = pipeline.attach({ name: 'a', type: 't', metadata: {}, uplink: functionConverter(jsonDecode), downlinkMode: 'none' });
    let outcome: UplinkOutcome[] | undefined;
    const done = channel.uplink.submit([message('a')]).then((o) => (outcome = o));
    await until(() => platform.calls.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(outcome).toBeUndefined();
    expect(platform.stored).toHaveLength(0);
    open();
    await done;
    expect(outcome?.[0]?.status).toBe('stored');
    expect(platform.stored).toHaveLength(1);
  });

  it('retries a failing platform with backoff, reports degraded, and resolves once stored', async () => {
    const { pipeline, platform, logger, metrics } = await setup();
    platform.failures = 3;
    let open!: () => void;
    platform.gate = new Promise((r) => (open = r));
    const channel = pipeline.attach({ name: 'a', type: 't', metadata: {}, uplink: functionConverter(jsonDecode), downlinkMode: 'none' });
    const done = channel.uplink.submit([message('a')]);
    await until(() => platform.calls.length === 1);
    expect(channel.health().status).toBe('up');
    open();
    await until(() => channel.health().status === 'degraded');
    expect(channel.health().detail).toMatch(/database is locked/);
    const [outcome] = await done;
    expect(outcome?.status).toBe('stored');
    expect(platform.calls).toHaveLength(4);
    const retries = logger.lines.filter((l) => l.msg === 'platform ingest failed; retrying');
    expect(retries.map((l) => (l.obj as { attempt: number }).attempt)).toEqual([1, 2, 3]);
    expect(metrics.value('tbi_store_retries_total', { integration: 'a' })).toBe(3);
    expect(channel.health()).toEqual({ status: 'up' });
  });

  it('dead-letters only the message whose conversion throws', async () => {
    const { pipeline, platform, metrics } = await setup();
    const converter = functionConverter((input) => {
      if (input.metadata.topic === 'd/bad') throw new Error('cannot parse');
      return jsonDecode(input);
    });
    const channel = pipeline.attach({ name: 'a', type: 't', metadata: {}, uplink: converter, downlinkMode: 'none' });
    const outcomes = await channel.uplink.submit([message('ok1'), message('bad'), message('ok2')]);
    expect(outcomes.map((o) => o.status)).toEqual(['stored', 'dead-lettered', 'stored']);
    expect(outcomes[1]).toMatchObject({ error: { kind: 'THREW', message: 'cannot parse' } });
    expect(platform.stored.map((i) => i.records[0]!.deviceName)).toEqual(['ok1', 'ok2']);
    const res = await pipeline.routes().request('/dead-letters');
    const page = (await res.json()) as { total: number; items: { integration: string; metadata: Record<string, string>; payload: { text: string } }[] };
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ integration: 'a', metadata: { topic: 'd/bad' }, payload: { text: '{"device":"bad","t":1}' } });
    expect(metrics.value('tbi_dead_letters_total', { integration: 'a' })).toBe(1);
    expect(metrics.value('tbi_messages_failed_total', { integration: 'a' })).toBe(1);
    expect(metrics.value('tbi_messages_stored_total', { integration: 'a' })).toBe(2);
    expect(metrics.value('tbi_messages_received_total', { integration: 'a' })).toBe(3);
  });

  it("returns failures to a caller that asked for deadLetters: 'caller', without dead-lettering", async () => {
    const { pipeline } = await setup();
    const channel = pipeline.attach({
      name: 'a',
      type: 't',
      metadata: {},
      uplink: functionConverter(() => {
        throw new Error('no');
      }),
      downlinkMode: 'none',
    });
    const [outcome] = await channel.uplink.submit([message('x')], { deadLetters: 'caller' });
    expect(outcome).toMatchObject({ status: 'failed', error: { message: 'no' } });
    const page = (await (await pipeline.routes().request('/dead-letters')).json()) as { total: number };
    expect(page.total).toBe(0);
  });

  it('narrows a batch the platform rejects down to the offending message', async () => {
    const { pipeline, platform } = await setup();
    platform.reject = (item) => item.records[0]?.deviceName === 'poison';
    const channel = pipeline.attach({ name: 'a', type: 't', metadata: {}, uplink: functionConverter(jsonDecode), downlinkMode: 'none' });
    const batch = Array.from({ length: 9 }, (_, i) => message(i === 5 ? 'poison' : `d${i}`));
    const outcomes = await channel.uplink.submit(batch);
    expect(outcomes.map((o) => o.status)).toEqual(['stored', 'stored', 'stored', 'stored', 'stored', 'dead-lettered', 'stored', 'stored', 'stored']);
    expect(outcomes[5]).toMatchObject({ error: { kind: 'INVALID_OUTPUT', message: expect.stringMatching(/rejected/) } });
    expect(platform.stored).toHaveLength(8);
  });

  it('pauses the integration at maxInFlight and resumes at the low-water mark', async () => {
    const { pipeline, platform } = await setup();
    let open!: () => void;
    platform.gate = new Promise((r) => (open = r));
    const events: string[] = [];
    const channel = pipeline.attach({ name: 'a', type: 't', metadata: {}, uplink: functionConverter(jsonDecode), downlinkMode: 'none', maxInFlight: 10 });
    channel.bind(integration(events));
    const submits = Array.from({ length: 25 }, (_, i) => channel.uplink.submit([message(`d${i}`)]));
    await until(() => events.length === 1);
    expect(events).toEqual(['pause']);
    expect(channel.status()).toMatchObject({ paused: true, inFlight: 25 });
    open();
    await Promise.all(submits);
    expect(events).toEqual(['pause', 'resume']);
    expect(channel.status()).toMatchObject({ paused: false, inFlight: 0 });
  });

  it('applies a pause that happened before bind', async () => {
    const { pipeline, platform } = await setup();
    platform.gate = new Promise(() => {});
    const events: string[] = [];
    const channel = pipeline.attach({ name: 'a', type: 't', metadata: {}, uplink: functionConverter(jsonDecode), downlinkMode: 'none', maxInFlight: 2 });
    void channel.uplink.submit([message('a'), message('b')]).catch(() => {});
    channel.bind(integration(events));
    expect(events).toEqual(['pause']);
  });

  it('rejects open submits with ShutdownError on detach, and later ones too', async () => {
    const { pipeline, platform } = await setup();
    platform.failures = 1_000_000;
    const channel = pipeline.attach({ name: 'a', type: 't', metadata: {}, uplink: functionConverter(jsonDecode), downlinkMode: 'none' });
    const pending = channel.uplink.submit([message('a')]);
    await until(() => platform.calls.length >= 2);
    await channel.detach();
    await expect(pending).rejects.toBeInstanceOf(ShutdownError);
    await expect(channel.uplink.submit([message('b')])).rejects.toBeInstanceOf(ShutdownError);
    expect(pipeline.channel('a')).toBeUndefined();
    expect(channel.health().status).toBe('stopped');
  });

  it('with a grace period, lets in-flight messages finish on detach while refusing new ones', async () => {
    const { pipeline, platform } = await setup();
    let open!: () => void;
    platform.gate = new Promise((r) => (open = r));
    const channel = pipeline.attach({ name: 'a', type: 't', metadata: {}, uplink: functionConverter(jsonDecode), downlinkMode: 'none' });
    const inFlight = channel.uplink.submit([message('a')]);
    await until(() => platform.calls.length === 1);
    const detached = channel.detach({ graceMs: 30_000 });
    await expect(channel.uplink.submit([message('late')])).rejects.toBeInstanceOf(ShutdownError);
    open();
    expect((await inFlight)[0]?.status).toBe('stored');
    await detached;
    expect(platform.stored.map((i) => i.records[0]!.deviceName)).toEqual(['a']);
  });

  it('rejects a malformed submit without disturbing the stream', async () => {
    const { pipeline } = await setup();
    const channel = pipeline.attach({ name: 'a', type: 't', metadata: {}, uplink: functionConverter(jsonDecode), downlinkMode: 'none' });
    await expect(channel.uplink.submit([{ payload: 'text' as unknown as Uint8Array, metadata: {} }])).rejects.toMatchObject({ code: 'INVALID_SUBMIT' });
    await expect(channel.uplink.submit([{ payload: new Uint8Array(), metadata: undefined as unknown as Record<string, string> }])).rejects.toMatchObject({
      code: 'INVALID_SUBMIT',
    });
    expect((await channel.uplink.submit([message('fine')]))[0]?.status).toBe('stored');
  });

  it('records debug events: everything in mode all, failures only in mode failures', async () => {
    const { pipeline } = await setup();
    const converter = functionConverter((input) => {
      if (input.metadata.topic === 'd/bad') throw new Error('bad one');
      return jsonDecode(input);
    });
    const channel = pipeline.attach({ name: 'a', type: 't', metadata: {}, uplink: converter, downlinkMode: 'none', debug: { mode: 'all' } });
    await channel.uplink.submit([message('good'), message('bad')]);
    await pipeline
      .routes()
      .request('/integrations/a/debug', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'failures' }) });
    await channel.uplink.submit([message('good'), message('bad')]);
    const res = await pipeline.routes().request('/integrations/a/events');
    const body = (await res.json()) as {
      mode: string;
      events: {
        status: string;
        in: { payload: { text: string } };
        out?: unknown;
        error?: { message: string };
        logs: unknown[];
        timings: { batchSize: number };
      }[];
    };
    expect(body.mode).toBe('failures');
    expect(body.events.map((e) => e.status)).toEqual(['dead-lettered', 'dead-lettered', 'stored']);
    expect(body.events[2]).toMatchObject({ in: { payload: { text: '{"device":"good","t":1}' } }, timings: { batchSize: 2 } });
    expect(body.events[2]!.out).toEqual([expect.objectContaining({ deviceName: 'good' })]);
    expect(body.events[0]).toMatchObject({ error: { message: 'bad one' }, logs: [{ level: 'error', message: 'boom' }] });
  });
});
