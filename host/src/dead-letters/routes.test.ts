import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { tempDir } from '../../test/pipeline-support/fakes.js';
import { DeadLetterStore } from './dead-letter-store.js';
import { deadLetterRoutes } from './routes.js';

const stores: DeadLetterStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

async function setup() {
  const store = new DeadLetterStore(path.join(await tempDir(), 'dl.db'));
  stores.push(store);
  const { ids } = store.add([
    {
      integration: 'a',
      payload: Buffer.from('x'.repeat(1000)),
      metadata: { k: 'v' },
      error: { kind: 'INVALID_OUTPUT', message: 'no deviceName', path: '[0].deviceName' },
    },
    { integration: 'b', payload: Uint8Array.of(0, 1, 2), metadata: {}, error: { kind: 'TIMEOUT', message: 'took too long' } },
  ]);
  const app = deadLetterRoutes(store, async () => ({ selected: 0, stored: 0, failed: 0, skipped: 0, notRunning: [] }));
  return { store, app, ids };
}

describe('dead-letter routes', () => {
  it('lists with previews and shows one whole', async () => {
    const { app, ids } = await setup();
    const page = (await (await app.request('/dead-letters?integration=a')).json()) as {
      total: number;
      items: { payload: { size: number; truncated: boolean; text: string } }[];
    };
    expect(page.total).toBe(1);
    expect(page.items[0]!.payload).toMatchObject({ size: 1000, truncated: true });
    expect(page.items[0]!.payload.text).toHaveLength(256);
    const one = (await (await app.request(`/dead-letters/${ids[0]}`)).json()) as { payload: { text: string }; error: unknown };
    expect(one.payload.text).toHaveLength(1000);
    expect(one.error).toEqual({ kind: 'INVALID_OUTPUT', message: 'no deviceName', path: '[0].deviceName' });
    const missing = await app.request('/dead-letters/999');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'DEAD_LETTER_NOT_FOUND' });
  });

  it('rejects bad parameters with 400', async () => {
    const { app } = await setup();
    expect((await app.request('/dead-letters?limit=-1')).status).toBe(400);
    expect((await app.request('/dead-letters?ids=1,x')).status).toBe(400);
    expect((await app.request('/dead-letters/replay', { method: 'POST', body: '{"ids": "1"}' })).status).toBe(400);
    expect((await app.request('/dead-letters/replay', { method: 'POST', body: 'nope' })).status).toBe(400);
  });

  it('purges by integration, by id, or all', async () => {
    const { app, store, ids } = await setup();
    expect(await (await app.request('/dead-letters?integration=zzz', { method: 'DELETE' })).json()).toEqual({ deleted: 0 });
    expect(await (await app.request(`/dead-letters/${ids[1]}`, { method: 'DELETE' })).json()).toEqual({ deleted: 1 });
    expect(await (await app.request('/dead-letters', { method: 'DELETE' })).json()).toEqual({ deleted: 1 });
    expect(store.count()).toBe(0);
  });
});
