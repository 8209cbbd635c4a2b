import { DeliveryError, type OutboundDownlink } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { PendingResponses } from './pending-responses.js';

const dl = (deviceName: string, commandId: string): OutboundDownlink => ({
  commandId,
  deviceName,
  encoded: { contentType: 'TEXT', data: commandId, metadata: {} },
  payload: new TextEncoder().encode(commandId),
});

/** Tracks how each promise settled. */
function fate(promise: Promise<void>): { state: string } {
  const f = { state: 'waiting' };
  promise.then(
    () => (f.state = 'delivered'),
    (e: DeliveryError) => (f.state = `dropped: ${e.retryable}`),
  );
  return f;
}
const tick = () => new Promise((r) => setImmediate(r));

describe('PendingResponses', () => {
  it('hands out downlinks per device, oldest first, resolving each when taken', async () => {
    const store = new PendingResponses(10);
    const one = fate(store.add(dl('a', '1')));
    const two = fate(store.add(dl('b', '2')));
    store.add(dl('a', '3'));
    expect(store.size).toBe(3);
    expect(store.take('a')?.commandId).toBe('1');
    await tick();
    expect(one.state).toBe('delivered');
    expect(two.state).toBe('waiting');
    expect(store.take('a')?.commandId).toBe('3');
    expect(store.take('a')).toBeUndefined();
    expect(store.take('c')).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it('drops the oldest beyond the per-device limit with a non-retryable DeliveryError', async () => {
    const store = new PendingResponses(2);
    const first = fate(store.add(dl('a', '1')));
    store.add(dl('a', '2'));
    store.add(dl('a', '3'));
    await tick();
    expect(first.state).toBe('dropped: false');
    expect(store.take('a')?.commandId).toBe('2');
  });

  it('clear fails everything that waits', async () => {
    const store = new PendingResponses(5);
    const a = fate(store.add(dl('a', '1')));
    const b = fate(store.add(dl('b', '2')));
    expect(store.clear('stopped')).toBe(2);
    await tick();
    expect([a.state, b.state]).toEqual(['dropped: false', 'dropped: false']);
    expect(store.size).toBe(0);
    await expect(Promise.reject(new DeliveryError('x'))).rejects.toBeInstanceOf(DeliveryError);
  });
});
