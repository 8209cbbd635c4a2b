import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { tempDir } from '../../test/pipeline-support/fakes.js';
import { DeadLetterStore, type DeadLetterInput } from './dead-letter-store.js';

const stores: DeadLetterStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

async function open(maxPerIntegration?: number) {
  const file = path.join(await tempDir(), 'dl.db');
  let now = 1000;
  const store = new DeadLetterStore(file, { now: () => now++, maxPerIntegration });
  stores.push(store);
  return { store, file };
}

const letter = (integration: string, text: string, sourceId?: string): DeadLetterInput => ({
  integration,
  payload: Buffer.from(text),
  metadata: { topic: 't' },
  error: { kind: 'THREW', message: `bad ${text}` },
  ...(sourceId ? { sourceId } : {}),
});

describe('DeadLetterStore', () => {
  it('stores letters durably and reads them back after reopening', async () => {
    const { store, file } = await open();
    const { ids } = store.add([letter('a', 'one'), letter('b', 'two')]);
    store.close();
    const again = new DeadLetterStore(file);
    stores.push(again);
    const got = again.get(ids[0]!)!;
    expect(Buffer.from(got.payload).toString()).toBe('one');
    expect(got).toMatchObject({ integration: 'a', metadata: { topic: 't' }, error: { kind: 'THREW', message: 'bad one' }, attempts: 1 });
    expect(again.count({ integration: 'b' })).toBe(1);
  });

  it('keeps one letter per source position: a redelivery that fails again counts an attempt', async () => {
    const { store } = await open();
    const first = store.add([letter('a', 'x', 'p/0/7')]).ids[0];
    const second = store.add([letter('a', 'x2', 'p/0/7')]).ids[0];
    expect(second).toBe(first);
    expect(store.count()).toBe(1);
    expect(store.get(first!)).toMatchObject({ attempts: 2 });
  });

  it('lists, pages, marks failures and removes by filter', async () => {
    const { store } = await open();
    const { ids } = store.add(['1', '2', '3', '4'].map((t) => letter(t === '4' ? 'b' : 'a', t)));
    expect(store.list({ integration: 'a', limit: 2, offset: 1 }).map((l) => l.id)).toEqual([ids[1], ids[2]]);
    expect(store.page({}, ids[1]!, 10).map((l) => l.id)).toEqual([ids[2], ids[3]]);
    store.markFailed(ids[0]!, { kind: 'TIMEOUT', message: 'slow' });
    expect(store.get(ids[0]!)).toMatchObject({ attempts: 2, error: { kind: 'TIMEOUT', message: 'slow' } });
    expect(store.remove({ ids: [ids[0]!, ids[3]!], integration: 'a' })).toBe(1);
    expect(store.remove({ integration: 'b' })).toBe(1);
    expect(store.count()).toBe(2);
  });

  it('drops the oldest letters above the per-integration cap', async () => {
    const { store } = await open(3);
    store.add(['1', '2'].map((t) => letter('a', t)));
    const { dropped } = store.add(['3', '4', '5'].map((t) => letter('a', t)));
    expect(dropped).toBe(2);
    expect(store.list({ integration: 'a' }).map((l) => Buffer.from(l.payload).toString())).toEqual(['3', '4', '5']);
  });
});
