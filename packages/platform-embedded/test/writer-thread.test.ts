import { afterEach, describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import type { DeliveryError, IngestItem } from '@tbi/plugin-api';
import { countRows, countTelemetryRows, item, record, tempPlatform } from './helpers.js';

type Env = Awaited<ReturnType<typeof tempPlatform>>;
let env: Env;
afterEach(async () => env?.cleanup());

/** A batch of `n` records of 200 devices, 3 values each (a commit writes a page per series). */
function batch(n: number, from: number): IngestItem[] {
  return Array.from({ length: n }, (_, i) =>
    item(
      [
        record(`load-${(from + i) % 200}`, {
          telemetry: [{ ts: from + i, values: { a: i, b: i / 2, c: 'x' } }],
        }),
      ],
      `load/${from + i}`,
    ),
  );
}

describe('writer thread', () => {
  it('lets the main thread write commands and attributes while ingest keeps the writer busy', async () => {
    // Without the write gate the main thread, polling for the lock that the writer thread takes
    // back right after every commit, fails here with SQLITE_BUSY after its busy timeout. 500 ms,
    // not less: on a machine loaded 10x over one commit of the writer can hold the lock 100 ms.
    env = await tempPlatform({ busyTimeoutMs: 500 });
    const { platform } = env;
    await platform.ingest([item([record('valve')])]);
    let running = true;
    let stored = 0;
    let seq = 0;
    // Six callers, each storing its next batch as soon as the last one resolves: the writer
    // thread always has calls waiting and commits back to back.
    const load = Promise.all(
      Array.from({ length: 6 }, async () => {
        while (running) {
          const from = seq;
          seq += 100;
          stored += (await platform.ingest(batch(100, from))).stored;
        }
      }),
    );
    try {
      for (let i = 0; i < 60; i++) {
        const { requestId } = await platform.sendRpc('valve', { method: 'm', oneway: true });
        platform.commandResult(requestId, { ok: true });
        expect(platform.getCommand(requestId)?.status).toBe('delivered');
        expect(await platform.setAttributes('valve', 'server', { i })).toEqual({ updated: 1 });
        await new Promise((r) => setTimeout(r, 2));
      }
    } finally {
      running = false;
      await load;
    }
    expect(stored).toBeGreaterThan(0);
    const other = env.secondConnection();
    expect(countRows(other, 'commands')).toBe(60);
    other.close();
    expect(platform.getAttributes('valve', 'server')).toMatchObject([{ key: 'i', value: 59 }]);
  });

  it('starts a new writer thread when the thread dies; a call in progress fails retryably and is stored once on retry', async () => {
    env = await tempPlatform();
    const { platform } = env;
    const writer = (platform as unknown as { writer: { worker: Worker | undefined } }).writer;
    await platform.ingest([item([record('a')], 'a/1')]);
    const inFlight = platform.ingest([item([record('b', { telemetry: [{ ts: 1, values: { v: 1 } }] })], 'b/1')]);
    await writer.worker!.terminate();
    const outcome = await inFlight.then(
      () => undefined,
      (e: unknown) => e as DeliveryError,
    );
    if (outcome !== undefined) {
      expect(outcome.code).toBe('DELIVERY_FAILED');
      expect(outcome.retryable).toBe(true);
    }
    // The pipeline retries the same item: stored once whether or not the first attempt committed.
    const retried = await platform.ingest([item([record('b', { telemetry: [{ ts: 1, values: { v: 1 } }] })], 'b/1')]);
    expect(retried.stored + retried.duplicates).toBe(1);
    expect(await platform.ingest([item([record('c')], 'c/1')])).toEqual({ stored: 1, duplicates: 0 });
    const other = env.secondConnection();
    expect(countRows(other, 'processed_messages')).toBe(3);
    expect(countTelemetryRows(other)).toBe(1);
    other.close();
  });

  it('keeps stored data readable by the main connection as soon as ingest resolves', async () => {
    env = await tempPlatform();
    const { platform } = env;
    for (let i = 0; i < 20; i++) {
      await platform.ingest([item([record('d', { telemetry: [{ ts: i, values: { v: i } }] })])]);
      expect(platform.latestTelemetry('d')).toEqual({ v: { ts: i, value: i } });
    }
  });
});
