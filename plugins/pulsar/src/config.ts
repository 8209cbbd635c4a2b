import { coerceBoolean, coerceNumber } from '@tbi/plugin-api';
import { z } from 'zod';

/** An integer setting (also written as a string, from `${env:…}`) within bounds. */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.preprocess(coerceNumber, z.number().int().min(min).max(max));
const bool = () => z.preprocess(coerceBoolean, z.boolean());

/** `persistent://tenant/namespace/topic` (or `non-persistent://`); a bare name means public/default. */
const topicName = z
  .string()
  .min(1)
  .regex(/^((non-)?persistent:\/\/[^/\s]+\/[^/\s]+\/[^/\s]+|[^/:\s]+)$/, 'persistent://tenant/namespace/topic, or a bare topic name (public/default)');

const tlsSchema = z
  .strictObject({
    ca: z.string().optional().describe('CA certificate(s): PEM text or a file path. Default: the system CAs.'),
    cert: z.string().optional().describe('Client certificate for mutual TLS: PEM text or a file path.'),
    key: z.string().optional().describe('Client private key: PEM text or a file path.'),
    rejectUnauthorized: bool().default(true).describe('Verify the broker certificate (turn off only for tests).'),
  })
  .describe('TLS for wss:// / https:// (websocket driver) and pulsar+ssl:// (native driver).');

const uplinkSchema = z
  .strictObject({
    topics: z
      .union([topicName, z.array(topicName).min(1)])
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .optional()
      .describe('Topic(s) to consume: persistent://tenant/namespace/topic.'),
    topicsPattern: z.string().optional().describe('A topic regex (native driver only; the WebSocket API has none).'),
    subscriptionName: z.string().min(1).describe('The subscription; hosts sharing it share the work (Shared, Key_Shared).'),
    subscriptionType: z.enum(['Exclusive', 'Shared', 'Failover', 'Key_Shared']).default('Shared'),
    initialPosition: z.enum(['Earliest', 'Latest']).default('Latest').describe('Where a new subscription starts.'),
    receiverQueueSize: int(1, 100_000).default(1000).describe('Unacknowledged messages the broker sends ahead, per connection.'),
    connections: int(1, 32).default(1).describe('Consumer connections per topic (more than 1 only for Shared and Key_Shared).'),
    batch: z
      .strictObject({
        maxMessages: int(1).default(1000),
        maxBytes: int(1).default(10 * 1024 * 1024),
        timeoutMs: int(0).default(100),
      })
      .default({ maxMessages: 1000, maxBytes: 10 * 1024 * 1024, timeoutMs: 100 })
      .describe("Receive batching (ThingsBoard's defaults): a batch goes to the converter when it has this many messages or bytes, or after timeoutMs."),
    maxRedeliverCount: int(0).default(3).describe('A message whose conversion fails is negatively acknowledged this many times, then dead-lettered.'),
    deadLetterTopic: z
      .string()
      .optional()
      .describe("The broker's dead-letter topic: failed messages go there after maxRedeliverCount redeliveries (else to the host's dead letters)."),
    negativeAckRedeliveryDelayMs: int(0).default(1000),
  })
  .superRefine((u, issue) => {
    if (!u.topics && !u.topicsPattern) issue.addIssue({ code: 'custom', path: ['topics'], message: 'topics (a list) or topicsPattern' });
    if (u.connections > 1 && (u.subscriptionType === 'Exclusive' || u.subscriptionType === 'Failover')) {
      issue.addIssue({ code: 'custom', path: ['connections'], message: `${u.subscriptionType} subscriptions deliver to one consumer: connections must be 1` });
    }
  })
  .describe('Consumer (uplink) settings.');

const downlinkSchema = z
  .strictObject({
    topic: topicName.optional().describe("Default topic of downlinks; the converter's metadata.topic wins."),
    timeoutMs: int(1).default(30_000).describe('A downlink not acknowledged by the broker by then fails.'),
  })
  .describe('Producer (downlink) settings: a downlink counts as sent once the broker acknowledged it.');

/**
 * The `config` block of a `pulsar` integration (ThingsBoard's fields, plus driver and batching).
 *
 * @example
 * { webServiceUrl: 'http://127.0.0.1:8080', token: '${env:PULSAR_TOKEN}',
 *   uplink: { topics: ['persistent://public/default/telemetry'], subscriptionName: 'tbi', subscriptionType: 'Shared' },
 *   downlink: { topic: 'persistent://public/default/commands' } }
 */
export const pulsarConfigSchema = z
  .strictObject({
    driver: z
      .enum(['websocket', 'native'])
      .default('websocket')
      .describe('websocket: pure JavaScript, the broker WebSocket API; native: the pulsar-client package (install it yourself).'),
    serviceUrl: z
      .string()
      .regex(/^pulsar(\+ssl)?:\/\//, 'pulsar://host:6650 or pulsar+ssl://host:6651')
      .optional()
      .describe('Binary-protocol URL (native driver).'),
    webServiceUrl: z
      .string()
      .regex(/^(https?|wss?):\/\//, 'http(s)://host:8080 or ws(s)://host:8080')
      .optional()
      .describe('Web service URL (websocket driver): the WebSocket API lives under /ws/v2 there.'),
    token: z.string().optional().describe('JWT; write ${env:NAME} so it comes from the environment. Never logged.'),
    tokenFile: z.string().optional().describe('A file holding the JWT, read again on every (re)connect, so a rotated token is picked up.'),
    tokenEnv: z.string().optional().describe('An environment variable holding the JWT, read again on every (re)connect.'),
    tls: tlsSchema.optional(),
    reconnect: z
      .strictObject({ initialDelayMs: int(1).default(500), maxDelayMs: int(1).default(10_000) })
      .default({ initialDelayMs: 500, maxDelayMs: 10_000 })
      .describe('Backoff between reconnection attempts (full jitter).'),
    uplink: uplinkSchema.optional().describe('Consumer settings; leave out for a downlink-only integration.'),
    downlink: downlinkSchema.default({ timeoutMs: 30_000 }),
    replay: z
      .strictObject({
        topic: topicName.optional().describe('The topic `tbi replay` reads. Default: the one topic in uplink.topics.'),
      })
      .optional()
      .describe('Replay (tbi replay) settings.'),
  })
  .superRefine((c, issue) => {
    if (c.driver === 'websocket' && !c.webServiceUrl)
      issue.addIssue({ code: 'custom', path: ['webServiceUrl'], message: 'the websocket driver needs the web service URL (http://host:8080)' });
    if (c.driver === 'native' && !c.serviceUrl)
      issue.addIssue({ code: 'custom', path: ['serviceUrl'], message: 'the native driver needs the service URL (pulsar://host:6650)' });
    if (c.driver === 'websocket' && c.uplink?.topicsPattern)
      issue.addIssue({
        code: 'custom',
        path: ['uplink', 'topicsPattern'],
        message: 'the WebSocket API cannot subscribe by pattern: list the topics, or use the native driver',
      });
    if ([c.token, c.tokenFile, c.tokenEnv].filter((t) => t !== undefined).length > 1)
      issue.addIssue({ code: 'custom', path: ['token'], message: 'one of token, tokenFile, tokenEnv' });
  });

/** The validated configuration of one `pulsar` integration instance. */
export type PulsarConfig = z.output<typeof pulsarConfigSchema>;
export type PulsarConfigInput = z.input<typeof pulsarConfigSchema>;
export type UplinkConfig = z.output<typeof uplinkSchema>;
export type DownlinkConfig = z.output<typeof downlinkSchema>;

/** The same schema as JSON Schema (draft 2020-12), for `tbi schema` and editors. */
export const configJsonSchema = z.toJSONSchema(pulsarConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
