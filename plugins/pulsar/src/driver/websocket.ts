import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { encodeMessageId } from '../message-id.js';
import { parseTopic, topicPath, type TopicName } from '../topic.js';
import {
  PulsarConnectError,
  type ConnectionOptions,
  type ConsumerConnection,
  type MessageIdParts,
  type OutgoingMessage,
  type ProducerConnection,
  type PulsarDriver,
  type ReaderConnection,
  type ReceivedMessage,
} from './types.js';

interface ConsumerFrame {
  messageId: string;
  payload: string;
  properties?: Record<string, string>;
  publishTime?: string;
  eventTime?: string;
  redeliveryCount?: number;
  key?: string;
}

interface ProducerReply {
  result: string;
  messageId?: string;
  errorMsg?: string;
  context?: string;
}

/**
 * The driver on Pulsar's WebSocket API (`/ws/v2/…` on the web service port), pure JavaScript on
 * `ws`. JSON frames with base64 payloads; acks are sent without waiting (the API sends no reply
 * to them), so one connection goes as fast as it can parse; the broker stops sending once
 * `receiverQueueSize` messages are unacknowledged.
 *
 * @param webServiceUrl `http(s)://host:port` or `ws(s)://host:port`
 */
export function websocketDriver(webServiceUrl: string): PulsarDriver {
  const base = webServiceUrl.replace(/^http/, 'ws').replace(/\/+$/, '');
  const admin = webServiceUrl.replace(/^ws/, 'http').replace(/\/+$/, '');
  return {
    name: 'websocket',
    async consumer(options) {
      const t = parseTopic(options.topic);
      const query = new URLSearchParams({
        subscriptionType: options.subscriptionType,
        receiverQueueSize: String(options.receiverQueueSize),
        negativeAckRedeliveryDelay: String(options.negativeAckRedeliveryDelayMs),
        subscriptionInitialPosition: options.initialPosition,
      });
      if (options.deadLetter) {
        query.set('maxRedeliverCount', String(options.deadLetter.maxRedeliverCount));
        query.set('deadLetterTopic', options.deadLetter.topic);
      }
      const url = `${base}/ws/v2/consumer/${topicPath(t)}/${encodeURIComponent(options.subscription)}?${query}`;
      const onFrame = (data: Buffer) => {
        const message = receivedMessage(data, t);
        if (message !== undefined) options.onMessage(message);
      };
      const { ws, socket } = await open(url, options, `consumer of ${t.full} (subscription ${options.subscription})`, onFrame);
      const send = corkedSender(ws, socket);
      let closing = false;
      watchClose(ws, () => closing, options.onClose);
      return {
        ack: (messageId) => send(JSON.stringify({ messageId })),
        negativeAck: (messageId) => send(JSON.stringify({ type: 'negativeAcknowledge', messageId })),
        close: () => {
          closing = true;
          return closeSocket(ws);
        },
      } satisfies ConsumerConnection;
    },
    async producer(options) {
      const t = parseTopic(options.topic);
      const { ws } = await open(`${base}/ws/v2/producer/${topicPath(t)}`, options, `producer to ${t.full}`);
      let closing = false;
      let next = 0;
      const pending = new Map<string, { resolve(id: string): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
      ws.on('message', (data: Buffer) => {
        let reply: ProducerReply;
        try {
          reply = JSON.parse(data.toString('utf8')) as ProducerReply;
        } catch {
          return;
        }
        const waiting = reply.context === undefined ? undefined : pending.get(reply.context);
        if (!waiting) return;
        pending.delete(reply.context!);
        clearTimeout(waiting.timer);
        if (reply.result === 'ok' && reply.messageId) waiting.resolve(reply.messageId);
        else waiting.reject(new Error(`the broker refused the message: ${reply.errorMsg ?? reply.result}`));
      });
      watchClose(
        ws,
        () => closing,
        (error) => {
          for (const [context, waiting] of pending) {
            pending.delete(context);
            clearTimeout(waiting.timer);
            waiting.reject(error);
          }
          options.onClose(error);
        },
      );
      return {
        send(message: OutgoingMessage, timeoutMs: number) {
          return new Promise<string>((resolve, reject) => {
            if (ws.readyState !== WebSocket.OPEN) return reject(new Error(`the producer connection to ${t.full} is closed`));
            const context = String(++next);
            const timer = setTimeout(() => {
              pending.delete(context);
              reject(new Error(`not acknowledged by the broker within ${timeoutMs} ms`));
            }, timeoutMs);
            pending.set(context, { resolve, reject, timer });
            const frame: Record<string, unknown> = { payload: message.payload.toString('base64'), context };
            if (message.key !== undefined) frame.key = message.key;
            if (message.properties && Object.keys(message.properties).length > 0) frame.properties = message.properties;
            ws.send(JSON.stringify(frame));
          });
        },
        close: () => {
          closing = true;
          return closeSocket(ws);
        },
      } satisfies ProducerConnection;
    },
    // The admin REST API's topic stats: one small HTTP request, so it is cheap enough for a gauge.
    async backlog(topic, subscription, options) {
      // Unknown (undefined) rather than an error: the gauge and the stall watchdog wait for the next try.
      const stats = (await adminGet(admin, `${topicPath(parseTopic(topic))}/stats`, options).catch(() => undefined)) as
        | { subscriptions?: Record<string, { msgBacklog?: number }> }
        | undefined;
      return stats?.subscriptions?.[subscription]?.msgBacklog;
    },
    // The reader endpoint: the broker creates a non-durable reader cursor for the connection and
    // drops it when the connection closes, so no subscription's cursor moves. Its start is
    // exclusive (measured on Pulsar 4.0.7), and the client's frames only free room in its queue.
    async reader(options) {
      const t = parseTopic(options.topic);
      const start = options.startAfter === 'earliest' ? 'earliest' : encodeMessageId(options.startAfter);
      const query = new URLSearchParams({ messageId: start, receiverQueueSize: String(options.receiverQueueSize), readerName: options.name });
      const onFrame = (data: Buffer) => {
        const message = receivedMessage(data, t);
        if (message !== undefined) options.onMessage(message);
      };
      const { ws, socket } = await open(`${base}/ws/v2/reader/${topicPath(t)}?${query}`, options, `reader of ${t.full}`, onFrame);
      const send = corkedSender(ws, socket);
      let closing = false;
      watchClose(ws, () => closing, options.onClose);
      return {
        next: (messageId) => send(JSON.stringify({ messageId })),
        close: () => {
          closing = true;
          return closeSocket(ws);
        },
      } satisfies ReaderConnection;
    },
    async lastMessageId(topic, options) {
      return messageIdOf(await adminGet(admin, `${topicPath(parseTopic(topic))}/lastMessageId`, options));
    },
    async messageIdAt(topic, time, options) {
      return messageIdOf(await adminGet(admin, `${topicPath(parseTopic(topic))}/messageid/${Math.floor(time)}`, options));
    },
  };
}

/** A consumer's or reader's message frame; undefined for anything else. */
function receivedMessage(data: Buffer, t: TopicName): ReceivedMessage | undefined {
  let frame: ConsumerFrame;
  try {
    frame = JSON.parse(data.toString('utf8')) as ConsumerFrame;
  } catch {
    return undefined; // not a message frame
  }
  if (typeof frame.messageId !== 'string' || typeof frame.payload !== 'string') return undefined;
  const message: ReceivedMessage = {
    messageId: frame.messageId,
    topic: t.full,
    payload: Buffer.from(frame.payload, 'base64'),
    properties: frame.properties ?? {},
    redeliveryCount: frame.redeliveryCount ?? 0,
  };
  if (frame.key !== undefined && frame.key !== '') message.key = frame.key;
  const publishTime = frame.publishTime ? Date.parse(frame.publishTime) : NaN;
  if (!Number.isNaN(publishTime)) message.publishTime = publishTime;
  const eventTime = frame.eventTime ? Date.parse(frame.eventTime) : NaN;
  if (!Number.isNaN(eventTime) && eventTime > 0) message.eventTime = eventTime;
  return message;
}

function messageIdOf(body: unknown): MessageIdParts {
  const v = body as { ledgerId?: unknown; entryId?: unknown; batchIndex?: unknown };
  if (typeof v?.ledgerId !== 'number' || typeof v.entryId !== 'number') throw new Error(`not a message id: ${JSON.stringify(body)}`);
  return { ledger: v.ledgerId, entry: v.entryId, batch: typeof v.batchIndex === 'number' ? v.batchIndex : -1 };
}

/**
 * One GET of the admin REST API (`/admin/v2/<path>`) with the connection's token and TLS (which
 * `fetch` cannot take); a refusal becomes a `PulsarConnectError` with the broker's reason.
 */
function adminGet(admin: string, path: string, options: ConnectionOptions): Promise<unknown> {
  const url = new URL(`${admin}/admin/v2/${path}`);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const tls = options.tls ? { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, rejectUnauthorized: options.tls.rejectUnauthorized } : {};
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, timeout: 10_000, ...tls }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        if (res.statusCode === 200 && json !== undefined) return resolve(json);
        const reason = (json as { reason?: string } | undefined)?.reason ?? body.slice(0, 200);
        reject(new PulsarConnectError(`GET ${url.pathname}: HTTP ${res.statusCode} ${reason}`.trim(), res.statusCode));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url.pathname}: no answer within 10 s`)));
    req.on('error', (error) => reject(new Error(`GET ${url.pathname}: ${error.message}`, { cause: error })));
    req.end();
  });
}

/**
 * Opens a socket; a refused upgrade becomes a `PulsarConnectError` with the broker's reason. Also
 * returns the TCP (or TLS) stream under it, from the upgrade response (ws's public `upgrade` event).
 * `onFrame` is attached before the upgrade: frames that arrive with the upgrade response are
 * emitted before the promise settles, and a listener attached after `await` missed them (a
 * reader lost the first messages of its range, a consumer got them only after a reconnect).
 */
function open(url: string, options: ConnectionOptions, what: string, onFrame?: (data: Buffer) => void): Promise<{ ws: WebSocket; socket: Duplex | undefined }> {
  return new Promise((resolve, reject) => {
    let socket: Duplex | undefined;
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const ws = new WebSocket(url, {
      headers,
      handshakeTimeout: 10_000,
      perMessageDeflate: false,
      ...(options.tls ? { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, rejectUnauthorized: options.tls.rejectUnauthorized } : {}),
    });
    if (onFrame) ws.on('message', onFrame);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => {
        ws.terminate();
        reject(new PulsarConnectError(`${what}: HTTP ${res.statusCode} ${brokerReason(body) ?? res.statusMessage ?? ''}`.trim(), res.statusCode));
      });
    });
    ws.once('upgrade', (res) => {
      socket = res.socket;
    });
    ws.once('open', () => {
      ws.removeAllListeners('error');
      ws.on('error', () => {}); // 'close' follows and reports it
      resolve({ ws, socket });
    });
    ws.once('error', (error) => reject(new Error(`${what}: ${error.message}`, { cause: error })));
  });
}

/** The `errorMsg` the WebSocket service puts in its HTML error page ("Namespace not found"…). */
function brokerReason(body: string): string | undefined {
  const decoded = body.replace(/&quot;/g, '"');
  const m = /"errorMsg"\s*:\s*"([^"]*)"/.exec(decoded) ?? /<title>(?:Error \d+ )?([^<]*)<\/title>/.exec(decoded);
  return m?.[1];
}

function watchClose(ws: WebSocket, closing: () => boolean, onClose: (error: Error) => void): void {
  ws.on('close', (code, reason) => {
    if (!closing()) onClose(new Error(`the WebSocket connection closed (code ${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`));
  });
}

/**
 * Sends frames if the connection is open (a closed one drops the frame: the broker delivers the
 * message again). The frames sent in one turn of the event loop (the acks of a
 * stored batch: one frame per message, the API has no cumulative ack) leave in one write: the
 * socket is corked at the first and uncorked once the turn's synchronous code is done. Uncorked,
 * each frame was its own `writev` system call: 12 % of the host main thread's profile samples
 * over a 100,000-message drain, 3 % corked.
 */
function corkedSender(ws: WebSocket, socket: Duplex | undefined): (frame: string) => void {
  let corked = false;
  return (frame) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (socket !== undefined && !corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    ws.send(frame);
  };
}

function closeSocket(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 2000);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close();
  });
}
