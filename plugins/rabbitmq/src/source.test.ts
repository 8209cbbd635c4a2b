import { tmpdir } from 'node:os';
import type { IntegrationContext, RawMessage, UplinkOutcome } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { type RabbitmqConfig, rabbitmqConfigSchema } from './config.js';
import type { ConnectionKeeper, OnConnected } from './connection-keeper.js';
import type { ChannelDriver, ConnectionDriver, Delivery } from './driver/types.js';
import { RabbitmqSource } from './source.js';
import type { StreamOffsets } from './stream-offsets.js';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const metric = { inc() {}, set() {}, dec() {}, observe() {} };
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A source on a fake channel whose submits resolve only when the test says so. */
async function harness(uplink: Record<string, unknown>) {
  const config = rabbitmqConfigSchema.parse({ uplink: { queues: ['q'], ...uplink } }) as RabbitmqConfig;
  const submits: Array<{ messages: readonly RawMessage[]; resolve: () => void }> = [];
  const acks: Array<[number, boolean]> = [];
  let deliver: (d: Delivery) => void = () => {};
  const closeListeners: Array<(error: Error | undefined) => void> = [];
  const channel = {
    prefetch: async () => {},
    consume: async (_queue: string, onDelivery: (d: Delivery) => void) => {
      deliver = onDelivery;
      return 'tag';
    },
    ack: (tag: number, multiple: boolean) => acks.push([tag, multiple]),
    nack: () => {},
    onClose: (listener: (error: Error | undefined) => void) => closeListeners.push(listener),
  } as unknown as ChannelDriver;
  const connection = { channel: async () => channel } as unknown as ConnectionDriver;
  let connected: OnConnected = async () => {};
  const keeper = { onConnected: (step: OnConnected) => (connected = step), fail() {}, state: 'up', broker: 'test' } as unknown as ConnectionKeeper;
  const offsets = { startFor: () => 'first', stored() {}, flush() {} } as unknown as StreamOffsets;
  const ctx = {
    name: 'test',
    type: 'rabbitmq',
    config,
    metadata: {},
    logger: silent,
    metrics: { counter: () => metric, gauge: () => metric, histogram: () => metric },
    clock: { now: () => 0 },
    uplink: {
      submit: (messages: readonly RawMessage[]) =>
        new Promise<UplinkOutcome[]>((resolve) => submits.push({ messages, resolve: () => resolve(messages.map(() => ({ status: 'stored', records: [] }))) })),
      reject: async () => {},
    },
    signal: new AbortController().signal,
    dataDir: tmpdir(),
    configDir: tmpdir(),
  } as unknown as IntegrationContext<RabbitmqConfig>;
  const source = new RabbitmqSource(ctx, config.uplink!, keeper, offsets);
  await connected(connection);
  const delivery = (tag: number): Delivery => ({
    queue: 'q',
    deliveryTag: tag,
    redelivered: false,
    exchange: '',
    routingKey: 'q',
    body: Buffer.from('{}'),
    properties: {},
  });
  return {
    source,
    submits,
    acks,
    deliver: (...tags: number[]) => {
      for (const t of tags) deliver(delivery(t));
    },
    close: () => {
      for (const l of closeListeners) l(undefined);
    },
  };
}

describe('RabbitmqSource acknowledgements', () => {
  it('acknowledges the submits that complete in one turn with one multiple ack', async () => {
    const h = await harness({ maxBatch: 2 });
    h.deliver(1, 2, 3, 4, 5, 6);
    expect(h.submits.map((s) => s.messages.length)).toEqual([2, 2, 2]);
    // The pipeline stores a converter batch made of several submits and settles them together.
    for (const s of h.submits) s.resolve();
    await nextTurn();
    await nextTurn();
    expect(h.acks).toEqual([[6, true]]);
  });

  it('acknowledges submits that complete in different turns separately, without waiting for the others', async () => {
    const h = await harness({ maxBatch: 2 });
    h.deliver(1, 2, 3, 4);
    h.submits[0]!.resolve();
    await nextTurn();
    await nextTurn();
    expect(h.acks).toEqual([[2, true]]);
    h.submits[1]!.resolve();
    await nextTurn();
    await nextTurn();
    expect(h.acks).toEqual([
      [2, true],
      [4, true],
    ]);
  });

  it('stop sends the acknowledgements of what completed before it returns, once', async () => {
    const h = await harness({});
    h.deliver(1, 2);
    await nextTurn(); // the batch goes out in the next turn
    h.submits[0]!.resolve();
    await h.source.stop();
    expect(h.acks).toEqual([[2, true]]);
    await nextTurn();
    expect(h.acks).toEqual([[2, true]]);
  });

  it('sends nothing for deliveries of a channel that closed before their turn', async () => {
    const h = await harness({ maxBatch: 2 });
    h.deliver(1, 2);
    h.submits[0]!.resolve();
    for (let i = 0; i < 20; i++) await Promise.resolve(); // the batch completes in this turn …
    h.close(); // … and the channel closes before the next
    await nextTurn();
    await nextTurn();
    expect(h.acks).toEqual([]);
  });
});
