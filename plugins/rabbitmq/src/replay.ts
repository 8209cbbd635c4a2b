import {
  DeliveryError,
  PluginError,
  ShutdownError,
  type IntegrationContext,
  type RawMessage,
  type ReplayBatch,
  type ReplayRequest,
  type ReplaySource,
} from '@tbi/plugin-api';
import type { RabbitmqConfig } from './config.js';
import { streamOffset, toRawMessage } from './delivery-message.js';
import type { AmqpDriver, ChannelDriver, ConnectionDriver, ConnectionOptions, Delivery, TableValue } from './driver/types.js';
import { describePosition, outsideTime, parseCheckpoint, streamPoint, type ReplayCheckpoint, type StreamStart } from './replay-range.js';
import { queueTraits } from './topology.js';

/** How long the end probe waits for a quiet stream's last chunk to stop arriving. */
const PROBE_IDLE_MS = 300;

/**
 * The stream a replay reads: `replay.stream`, else the one consumed queue that is a stream.
 * Throws a `PluginError` (`RABBITMQ_REPLAY_NO_STREAM`) naming the queues when there is none.
 */
export function replayStream(config: RabbitmqConfig): string {
  if (config.replay?.stream !== undefined) return config.replay.stream;
  const queues = config.uplink?.queues ?? [];
  const streams = queues.filter((q) => queueTraits(config, q).stream);
  if (streams.length === 1) return streams[0]!;
  const why =
    streams.length > 1
      ? `it consumes several streams (${streams.join(', ')}): name the one to replay in replay.stream`
      : `none of its queues (${queues.join(', ') || 'none'}) is a stream (x-queue-type: stream in topology, or uplink.streamQueues): classic and quorum queues keep no history. Bind a stream queue to the same exchange and name it in replay.stream`;
  throw new PluginError('RABBITMQ_REPLAY_NO_STREAM', `this rabbitmq integration cannot replay: ${why}`, { context: { queues } });
}

const startArgument = (s: StreamStart): TableValue => ('offset' in s ? s.offset : { '!': 'timestamp', value: s.timestampSec });

/**
 * Finds the range in offsets, on a channel of its own that is closed afterwards: the stream's end
 * as of now (a `next` consumer's first delivery is exactly the end when anything is published
 * meanwhile; else one past the highest offset a `last` consumer sees before it goes quiet), and
 * the first offset at or after each time bound (a consumer at that AMQP timestamp).
 */
async function probeRange(connection: ConnectionDriver, stream: string, from: StreamStart, to: StreamStart | undefined, signal: AbortSignal) {
  const ch = await connection.channel();
  try {
    await ch.prefetch(1000);
    let nextFirst: number | undefined;
    let lastMax = -1;
    let quietSince = Date.now();
    const firsts = new Map<string, number>();
    const watch = async (name: string, offset: TableValue, onOffset: (o: number) => void) => {
      await ch.consume(
        stream,
        (d) => {
          ch.ack(d.deliveryTag, false); // credit only: streams keep every message
          const o = streamOffset(d);
          if (o === undefined) return;
          if (!firsts.has(name)) firsts.set(name, o);
          onOffset(o);
        },
        { arguments: { 'x-stream-offset': offset } },
      );
    };
    await watch('next', 'next', (o) => (nextFirst ??= o));
    await watch('last', 'last', (o) => {
      lastMax = Math.max(lastMax, o);
      quietSince = Date.now();
    });
    const timed = (['from', 'to'] as const).filter((k) => (k === 'from' ? from : to) !== undefined && 'timestampSec' in (k === 'from' ? from : to)!);
    for (const k of timed) await watch(k, startArgument((k === 'from' ? from : to)!), () => {});
    quietSince = Date.now();
    while (nextFirst === undefined && Date.now() - quietSince < PROBE_IDLE_MS) {
      if (signal.aborted) throw new ShutdownError('replay cancelled');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const end = Math.min(nextFirst ?? Number.POSITIVE_INFINITY, lastMax + 1);
    // A time bound inside the stream is answered from the log at once; none means "after the end".
    const waitUntil = Date.now() + PROBE_IDLE_MS;
    while (timed.some((k) => !firsts.has(k)) && Date.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 20));
    const at = (s: StreamStart | undefined, k: 'from' | 'to') => (s === undefined ? end : 'offset' in s ? s.offset : (firsts.get(k) ?? end));
    return { start: at(from, 'from'), end: Math.min(end, at(to, 'to')) };
  } finally {
    await ch.close();
  }
}

/**
 * `Integration.replay` for a stream queue: a connection, channel and consumer of its own
 * (`basic.qos` of two batches, acks that only give credit), reading from a numeric
 * `x-stream-offset` up to the end fixed at the first start. Never touches the live consumer or
 * its stored offsets. Messages are the live path's (`toRawMessage`), same `sourceId`.
 */
export function rabbitmqReplay(ctx: IntegrationContext<RabbitmqConfig>, driver: AmqpDriver, options: ConnectionOptions): ReplaySource {
  return (request) => readStream(ctx, driver, options, request);
}

async function* readStream(
  ctx: IntegrationContext<RabbitmqConfig>,
  driver: AmqpDriver,
  options: ConnectionOptions,
  request: ReplayRequest,
): AsyncGenerator<ReplayBatch> {
  const stream = replayStream(ctx.config);
  const { signal } = request;
  const maxBatch = Math.max(1, Math.floor(request.maxBatch));
  // Parse everything before connecting: a bad request fails at once with what was expected.
  const resumed = request.resume === undefined ? undefined : parseCheckpoint(request.resume, stream);
  const from = streamPoint(request.from, 'from');
  const to = request.to === undefined ? undefined : streamPoint(request.to, 'to');
  if (signal.aborted) throw new ShutdownError('replay cancelled');
  const connection = await driver.connect(options, `${ctx.name} replay of ${stream}`);
  let channel: ChannelDriver | undefined;
  try {
    let cp: ReplayCheckpoint;
    if (resumed !== undefined) cp = resumed;
    else {
      const range = await probeRange(connection, stream, from, to, signal);
      cp = { stream, next: range.start, start: range.start, end: Math.max(range.start, range.end) };
      if ('timestampSec' in from) cp.fromSec = from.timestampSec;
      if (to !== undefined && 'timestampSec' in to) cp.toSec = to.timestampSec;
    }
    ctx.logger.info({ ...cp }, 'rabbitmq replay starting');
    if (cp.next >= cp.end) return;

    const ch = await connection.channel();
    channel = ch;
    const buffer: Delivery[] = [];
    let head = 0;
    let wake: (() => void) | undefined;
    let closed: Error | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    ch.onClose((error) => {
      closed = error ?? new Error('channel closed');
      notify();
    });
    const onAbort = () => notify();
    signal.addEventListener('abort', onAbort);
    try {
      await ch.prefetch(Math.min(65_535, maxBatch * 2));
      await ch.consume(
        stream,
        (d) => {
          buffer.push(d);
          if (buffer.length - head >= maxBatch) notify();
          else queueMicrotask(notify);
        },
        { consumerTag: `tbi-replay-${ctx.name}-${Date.now().toString(36)}`, arguments: { 'x-stream-offset': cp.next } },
      );
      const policy = { stream: true, messageIdIsUnique: ctx.config.uplink?.messageIdIsUnique ?? false };
      let done = false;
      while (!done) {
        if (signal.aborted) throw new ShutdownError('replay cancelled');
        const messages: RawMessage[] = [];
        let lastTag: number | undefined;
        const receivedAt = ctx.clock.now();
        while (messages.length < maxBatch && !done) {
          if (head === buffer.length) {
            if (head > 0) buffer.length = head = 0;
            if (signal.aborted) throw new ShutdownError('replay cancelled');
            if (closed !== undefined)
              throw new DeliveryError(`the replay channel of stream "${stream}" closed: ${closed.message}`, {
                retryable: true,
                cause: closed,
                context: { stream, next: cp.next },
              });
            if (messages.length > 0) break; // hand over what is there rather than wait
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          const d = buffer[head++]!;
          lastTag = d.deliveryTag;
          const offset = streamOffset(d);
          if (offset === undefined || offset < cp.next) continue;
          if (offset >= cp.end) {
            done = true;
            break;
          }
          cp.next = offset + 1;
          if (cp.next >= cp.end) done = true;
          if (!outsideTime(d.properties.timestamp, cp)) messages.push(toRawMessage(d, receivedAt, policy));
        }
        if (messages.length > 0) yield { messages, checkpoint: JSON.stringify(cp), position: describePosition(cp), total: cp.end - cp.start };
        // The host stored the batch: give the broker credit for the next one.
        if (lastTag !== undefined && closed === undefined) ch.ack(lastTag, true);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  } finally {
    await channel?.close();
    await connection.close();
  }
}
