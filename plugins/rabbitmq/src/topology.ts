import type { Logger } from '@tbi/plugin-api';
import type { RabbitmqConfig } from './config.js';
import type { ChannelDriver } from './driver/types.js';

/**
 * Declares the integration's exchanges, queues and bindings (idempotent: run on every connect),
 * plus ThingsBoard's binding of each consumed queue to `exchangeName` with `routingKey`.
 * A declaration that conflicts with what exists (other arguments) fails with the broker's
 * PRECONDITION_FAILED message, which names the argument.
 */
export async function declareTopology(ch: ChannelDriver, config: RabbitmqConfig): Promise<void> {
  const t = config.topology;
  for (const e of t.exchanges) await ch.declareExchange(e);
  for (const q of t.queues) await ch.declareQueue(q);
  for (const b of t.bindings) await ch.bindQueue(b.queue, b.exchange, b.routingKey, b.arguments);
  if (config.exchangeName && config.uplink !== undefined) {
    for (const queue of config.uplink.queues) await ch.bindQueue(queue, config.exchangeName, config.routingKey ?? '', {});
  }
}

/**
 * Consumed queues this integration does not bind to anything. They may be bound elsewhere, but
 * often they are the "queue not bound to the exchange, messages lost" mistake: say so at start.
 */
export function unboundQueues(config: RabbitmqConfig): string[] {
  if (config.uplink === undefined || config.exchangeName) return [];
  const bound = new Set(config.topology.bindings.map((b) => b.queue));
  return config.uplink.queues.filter((q) => !bound.has(q));
}

export function warnUnbound(config: RabbitmqConfig, logger: Logger): void {
  for (const queue of unboundQueues(config)) {
    logger.warn(
      { queue },
      `queue "${queue}" is not bound to any exchange by this integration: unless a binding exists on the broker, only messages published to the default exchange with routing key "${queue}" reach it, and messages for other exchanges are lost`,
    );
  }
}

/** How the integration treats one consumed queue, from its declared arguments. */
export interface QueueTraits {
  stream: boolean;
  /** Failed conversions go to the queue's DLX by `nack` (else the host's dead letters). */
  brokerDeadLetters: boolean;
}

export function queueTraits(config: RabbitmqConfig, queue: string): QueueTraits {
  const declared = config.topology.queues.find((q) => q.name === queue);
  const args = declared?.arguments ?? {};
  const uplink = config.uplink;
  const stream = args['x-queue-type'] === 'stream' || (uplink?.streamQueues ?? []).includes(queue);
  const hasDlx = typeof args['x-dead-letter-exchange'] === 'string';
  const mode = uplink?.deadLetter ?? 'auto';
  // Streams do not dead-letter: a nack is ignored there.
  const brokerDeadLetters = !stream && (mode === 'broker' || (mode === 'auto' && hasDlx));
  return { stream, brokerDeadLetters };
}
