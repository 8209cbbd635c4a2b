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
import type { PulsarConfig } from './config.js';
import { connectionOptions } from './connection-options.js';
import { isPulsarConnectError, type ConnectionOptions, type PulsarDriver, type ReaderConnection, type ReceivedMessage } from './driver/types.js';
import { compareMessageIds, decodeMessageId, formatMessageId, parseMessageId } from './message-id.js';
import { toRawMessage } from './message.js';
import { describePosition, judge, parseCheckpoint, topicPoint, type ReplayCheckpoint, type TopicPoint } from './replay-range.js';
import { parseTopic } from './topic.js';

/** The most a WebSocket reader sends ahead (the broker caps `receiverQueueSize` at 1000). */
const READER_QUEUE = 1000;
/**
 * How long a reader may send nothing before the range's tail before it is reopened. Everything
 * up to the tail is written when the replay starts, so a quiet reader is stuck: a frame lost
 * once made a replay wait for its tail forever (the first frames came with the upgrade response,
 * before the listener; fixed in the driver), and the source watches for the same kind of stall
 * of the WebSocket service's consumers. A new reader after the last message handed over costs
 * little.
 */
const STALL_MS = 3000;

/**
 * The topic a replay reads: `replay.topic`, else the one topic in `uplink.topics`. Throws a
 * `PluginError` (`PULSAR_REPLAY_NO_TOPIC`) naming the topics when that does not name one.
 */
export function replayTopic(config: PulsarConfig): string {
  const named = config.replay?.topic ?? (config.uplink?.topics?.length === 1 ? config.uplink.topics[0] : undefined);
  if (named !== undefined) return parseTopic(named).full;
  const topics = config.uplink?.topics ?? [];
  const why =
    topics.length > 1
      ? `it consumes several topics (${topics.join(', ')}): name the one to replay in replay.topic`
      : 'it consumes no listed topic: name the topic to replay in replay.topic';
  throw new PluginError('PULSAR_REPLAY_NO_TOPIC', `this pulsar integration cannot replay: ${why}`, { context: { topics } });
}

/**
 * `Integration.replay` for a Pulsar topic, on the WebSocket API's reader endpoint: the broker
 * gives the reader a non-durable cursor of its own, dropped when the reader closes, so the live
 * subscription's cursor and backlog stay as they were and nothing is acknowledged. (A temporary
 * subscription reset to a time would also work, but it is a durable cursor that a crash leaves
 * behind, holding back retention; the reader needs no clean-up.) The range is found with the
 * admin REST API: `messageid/{time}` for a time bound, `lastMessageId` for the end as of the
 * start. Messages are the live path's (`toRawMessage`), same `sourceId`.
 */
export function pulsarReplay(ctx: IntegrationContext<PulsarConfig>, driver: PulsarDriver): ReplaySource {
  return (request) => readTopic(ctx, driver, request);
}

async function* readTopic(ctx: IntegrationContext<PulsarConfig>, driver: PulsarDriver, request: ReplayRequest): AsyncGenerator<ReplayBatch> {
  const topic = replayTopic(ctx.config);
  const { signal } = request;
  const maxBatch = Math.max(1, Math.floor(request.maxBatch));
  // Parse everything before connecting: a bad request fails at once with what was expected.
  const resumed = request.resume === undefined ? undefined : parseCheckpoint(request.resume, topic);
  const from = topicPoint(request.from, 'from');
  const to = request.to === undefined ? undefined : topicPoint(request.to, 'to');
  const { reader: openReader, lastMessageId, messageIdAt } = driver;
  if (openReader === undefined || lastMessageId === undefined || messageIdAt === undefined)
    throw new PluginError('PULSAR_REPLAY_UNSUPPORTED', `the ${driver.name} driver cannot replay yet: use driver: websocket for tbi replay`, {
      context: { driver: driver.name, topic },
    });
  if (signal.aborted) throw new ShutdownError('replay cancelled');
  const options = await connectionOptions(ctx);
  const cp = resumed ?? (await findRange(driver, topic, from, to, options));
  if (cp === undefined) {
    ctx.logger.info({ topic, from: request.from, to: request.to }, 'pulsar replay: the range is empty');
    return;
  }
  ctx.logger.info({ ...cp }, 'pulsar replay starting');

  const ids = (s: string | undefined) => (s === undefined ? undefined : parseMessageId(s));
  const range = { start: ids(cp.start)!, tail: ids(cp.tail)!, ...(cp.end ? { end: ids(cp.end)! } : {}), ...times(cp) };
  let after = ids(cp.after);
  const buffer: ReceivedMessage[] = [];
  let head = 0;
  let wake: (() => void) | undefined;
  let closed: Error | undefined;
  let generation = 0;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  // The reader's start is exclusive: after the last message handed over (its batch index too,
  // so a batch is not read twice), or before the start's entry. On a topic with producer
  // batches the broker may begin earlier than asked (seen on 4.0.7); `judge` skips that.
  const open = () => {
    const mine = ++generation;
    return openReader.call(driver, {
      ...options,
      topic,
      startAfter: after ?? { ledger: range.start.ledger, entry: range.start.entry - 1, batch: -1 },
      receiverQueueSize: Math.min(READER_QUEUE, maxBatch * 2),
      name: `tbi-replay-${ctx.name}`,
      onMessage: (m) => {
        if (mine !== generation) return;
        buffer.push(m);
        if (buffer.length - head >= maxBatch) notify();
        else queueMicrotask(notify);
      },
      onClose: (error) => {
        if (mine !== generation) return;
        closed = error;
        notify();
      },
    });
  };
  const onAbort = () => notify();
  signal.addEventListener('abort', onAbort);
  let reader: ReaderConnection | undefined;
  try {
    reader = await open();
    let done = false;
    while (!done) {
      if (signal.aborted) throw new ShutdownError('replay cancelled');
      const messages: RawMessage[] = [];
      const receivedAt = ctx.clock.now();
      while (messages.length < maxBatch && !done) {
        if (head === buffer.length) {
          if (head > 0) buffer.length = head = 0;
          if (signal.aborted) throw new ShutdownError('replay cancelled');
          if (closed !== undefined)
            throw new DeliveryError(`the replay reader of topic "${topic}" closed: ${closed.message}`, {
              retryable: true,
              cause: closed,
              context: { topic, after: cp.after ?? null },
            });
          if (messages.length > 0) break; // hand over what is there rather than wait
          if (!(await woken(STALL_MS, (resolve) => (wake = resolve)))) {
            // Everything up to the tail is written, so a quiet reader is stuck (see STALL_MS): reopen it.
            ctx.logger.warn({ topic, after: cp.after ?? null, quietMs: STALL_MS }, 'pulsar replay reader went quiet before the end; reopening it');
            const stale = reader;
            reader = undefined;
            await stale.close();
            reader = await open();
          }
          continue;
        }
        const m = buffer[head++]!;
        reader.next(m.messageId); // room for the next one: the reader acknowledges nothing
        const id = decodeMessageId(m.messageId);
        if (id === undefined) continue;
        const { verdict, last } = judge(id, m.publishTime, { ...range, ...(after ? { after } : {}) });
        if (verdict === 'take') {
          after = id;
          cp.after = formatMessageId(id);
          cp.read++;
          messages.push(toRawMessage(m, receivedAt));
        }
        if (verdict === 'end' || last) done = true;
      }
      if (messages.length > 0) yield { messages, checkpoint: JSON.stringify(cp), position: describePosition(cp) };
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    generation++;
    await reader?.close();
  }
}

/** Waits for `arm`'s callback, or `ms`; true when woken. */
function woken(ms: number, arm: (resolve: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    arm(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * The range in message ids: the start (the given id, or the first entry published at or after
 * `from.time`), the tail (the topic's last message now) and the end from `to`. Undefined when the
 * range is empty.
 */
async function findRange(
  driver: PulsarDriver,
  topic: string,
  from: TopicPoint,
  to: TopicPoint | undefined,
  options: ConnectionOptions,
): Promise<ReplayCheckpoint | undefined> {
  const admin = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (isPulsarConnectError(error) && error.status === 404)
        throw new PluginError('PULSAR_REPLAY_NO_TOPIC', `topic "${topic}" does not exist on the broker: ${error.message}`, {
          context: { topic },
          cause: error,
        });
      throw new DeliveryError(`finding the replay range of topic "${topic}" failed: ${(error as Error).message}`, {
        retryable: true,
        cause: error,
        context: { topic },
      });
    }
  };
  const at = (p: TopicPoint) => ('id' in p ? Promise.resolve(p.id) : admin(() => driver.messageIdAt!(topic, p.time, options)));
  const tail = await admin(() => driver.lastMessageId!(topic, options));
  if (tail.entry < 0) return undefined; // nothing written
  const start = await at(from);
  const end = to === undefined ? undefined : await at(to);
  if (compareMessageIds(start, tail) > 0 || (end !== undefined && compareMessageIds(start, end) >= 0)) return undefined;
  const cp: ReplayCheckpoint = { topic, start: formatMessageId(start), tail: formatMessageId(tail), read: 0 };
  if (end !== undefined && compareMessageIds(end, tail) <= 0) cp.end = formatMessageId(end);
  if ('time' in from) cp.fromTime = from.time;
  if (to !== undefined && 'time' in to) cp.toTime = to.time;
  return cp;
}

const times = (cp: ReplayCheckpoint) => ({
  ...(cp.fromTime !== undefined ? { fromTime: cp.fromTime } : {}),
  ...(cp.toTime !== undefined ? { toTime: cp.toTime } : {}),
});
