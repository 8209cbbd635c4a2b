import type { OutboundDownlink } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { PendingResponses } from './pending-responses.js';

const dl = (deviceName: string, commandId: string): OutboundDownlink => ({
  commandId,
  deviceName,
  encoded: { contentType: 'TEXT', data: commandId, metadata: {} },
  payload: new TextEncoder().encode(commandId),
});

describe('PendingResponses', () => {
  it('hands out downlinks per device, oldest first', () => {
    const store = new PendingResponses(10);
    store.add(dl('a', '1'));
    store.add(dl('b', '2'));
    store.add(dl('a', '3'));
    expect(store.size).toBe(3);
    expect(store.take('a')?.commandId).toBe('1');
    expect(store.take('a')?.commandId).toBe('3');
    expect(store.take('a')).toBeUndefined();
    expect(store.take('c')).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it('drops and returns the oldest beyond the per-device limit', () => {
    const store = new PendingResponses(2);
    expect(store.add(dl('a', '1'))).toBeUndefined();
    expect(store.add(dl('a', '2'))).toBeUndefined();
    expect(store.add(dl('a', '3'))?.commandId).toBe('1');
    expect(store.add(dl('b', '4'))).toBeUndefined();
    expect(store.drain().map((d) => d.commandId).sort()).toEqual(['2', '3', '4']);
    expect(store.size).toBe(0);
  });
});
