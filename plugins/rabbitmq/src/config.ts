import { coerceBoolean, coerceNumber } from '@tbi/plugin-api';
import { z } from 'zod';

// Values may come from `${env:NAME}` references, which are strings: the kit's coercions turn
// numeric and true/false strings into numbers and booleans and leave anything else for the
// schema to report.
const int = (schema: z.ZodNumber = z.number()) => z.preprocess(coerceNumber, schema.int());
const bool = () => z.preprocess(coerceBoolean, z.boolean());
/** AMQP table values (queue arguments, header matches): scalars only, as RabbitMQ stores them. */
const table = () => z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

const tlsSchema = z
  .strictObject({
    ca: z.string().optional().describe('CA certificate(s): PEM text or a file path. Default: the system CAs.'),
    cert: z.string().optional().describe('Client certificate for mutual TLS: PEM text or a file path.'),
    key: z.string().optional().describe('Client private key: PEM text or a file path.'),
    passphrase: z.string().optional().describe('Passphrase of the client key.'),
    rejectUnauthorized: bool().default(true).describe('Verify the broker certificate (turn off only for tests).'),
    servername: z.string().optional().describe('SNI / certificate host name, when it differs from host.'),
  })
  .describe('TLS (amqps) settings; setting this block turns TLS on.');

const exchangeSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['direct', 'topic', 'fanout', 'headers']).default('direct'),
  durable: bool().default(true),
  autoDelete: bool().default(false),
  arguments: table().default({}),
});

const queueSchema = z.strictObject({
  name: z.string().min(1),
  durable: bool().default(true),
  exclusive: bool().default(false),
  autoDelete: bool().default(false),
  arguments: table().default({}).describe('e.g. {"x-queue-type": "quorum", "x-dead-letter-exchange": "dlx", "x-delivery-limit": 5}'),
});

const bindingSchema = z.strictObject({
  exchange: z.string().min(1),
  queue: z.string().min(1),
  routingKey: z.string().default('').describe('Routing key or topic pattern (ignored by fanout and headers exchanges).'),
  arguments: table().default({}).describe('Header matches for headers exchanges, e.g. {"x-match": "all", "site": "north"}.'),
});

const topologySchema = z
  .strictObject({
    exchanges: z.array(exchangeSchema).default([]),
    queues: z.array(queueSchema).default([]),
    bindings: z.array(bindingSchema).default([]),
  })
  .describe('Declared (idempotently) on every connect, before consuming.');

const uplinkSchema = z
  .strictObject({
    queues: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .transform((v) =>
        Array.isArray(v)
          ? v
          : v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
      )
      .describe('Queue name(s) to consume: a list or "a,b".'),
    prefetch: int(z.number().min(1).max(65_535))
      .default(50)
      .describe(
        'Unacknowledged deliveries per queue (basic.qos); 10-50 is the recommended range. It is also the pipeline window: 250 drains a backlog about twice as fast as 50 at the same live latency.',
      ),
    maxBatch: int(z.number().min(1)).optional().describe('Largest batch handed to the converter at once; default: prefetch.'),
    deadLetter: z
      .enum(['auto', 'broker', 'host'])
      .default('auto')
      .describe(
        "Failed conversions: broker = nack without requeue (the queue's DLX); host = the host's dead letters; auto = broker when the queue's declared arguments name an x-dead-letter-exchange.",
      ),
    maxDeliveries: int(z.number().min(1))
      .default(5)
      .describe('A message delivered this often (x-delivery-count, quorum queues) goes to the dead letters unconverted: a poison message never loops.'),
    messageIdIsUnique: bool().default(false).describe('Publishers set a unique message-id: a redelivered message is stored once.'),
    streamOffset: z
      .union([z.enum(['first', 'last', 'next']), int(z.number().min(0))])
      .default('first')
      .describe('Where a stream queue is read from the first time; afterwards from the offset after the last one stored.'),
    streamQueues: z
      .array(z.string().min(1))
      .default([])
      .describe('Consumed queues that are streams but not declared in topology (x-queue-type: stream there is enough).'),
    consumerTag: z.string().optional(),
  })
  .describe('Consumer (uplink) settings.');

const downlinkSchema = z
  .strictObject({
    exchange: z.string().default('').describe('Target exchange ("" = the default exchange); a template: "commands", metadata.exchange wins.'),
    routingKey: z.string().default('${deviceName}').describe('A template such as "commands.${deviceName}"; metadata.routingKey wins.'),
    mandatory: bool().default(true).describe('Unroutable downlinks are returned by the broker and reported as failed.'),
    persistent: bool().default(true),
    timeoutMs: int(z.number().positive()).default(30_000).describe('A downlink not confirmed by then fails.'),
  })
  .describe('Publisher (downlink) settings: a confirm channel, so a downlink counts as sent only once the broker confirmed it.');

const replaySchema = z
  .strictObject({
    stream: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Stream queue `tbi replay` reads; default: the consumed queue when it is a stream. For a classic or quorum queue, bind a stream to the same exchange and name it here.',
      ),
  })
  .describe('Where `tbi replay` reads history from (a stream queue).');

/**
 * The `config` block of a `rabbitmq` integration (ThingsBoard's fields, plus TLS, topology and
 * consumer settings).
 *
 * @example
 * { host: '127.0.0.1', port: 5672, virtualHost: '/', username: 'tbi', password: '${env:AMQP_PASSWORD}',
 *   uplink: { queues: ['telemetry'] }, downlink: { exchange: 'commands', routingKey: 'commands.${deviceName}' } }
 */
export const rabbitmqConfigSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^amqps?:\/\//, 'amqp://… or amqps://…')
      .optional()
      .describe('amqp(s)://user:pass@host:port/vhost; fields given beside it win.'),
    host: z.string().min(1).optional().describe('Default 127.0.0.1 (or the URL’s).'),
    port: int(z.number().min(1).max(65_535)).optional().describe('Default 5672, or 5671 with TLS.'),
    virtualHost: z.string().optional().describe('Default "/".'),
    username: z.string().optional().describe('Default "guest".'),
    password: z.string().optional().describe('Write ${env:NAME} so it comes from the environment; never logged.'),
    tls: tlsSchema.optional(),
    heartbeatSec: int(z.number().min(0)).default(60).describe('AMQP heartbeat (0 = off); 60 s is what RabbitMQ recommends.'),
    connectionTimeoutMs: int(z.number().positive()).default(10_000),
    reconnect: z
      .strictObject({
        initialDelayMs: int(z.number().positive()).default(500),
        maxDelayMs: int(z.number().positive()).default(10_000),
      })
      .default({ initialDelayMs: 500, maxDelayMs: 10_000 })
      .describe('Backoff between reconnection attempts (full jitter).'),
    exchangeName: z.string().optional().describe("ThingsBoard's field: with routingKey, binds the consumed queues to this exchange."),
    routingKey: z.string().optional().describe("ThingsBoard's field: the binding key used with exchangeName."),
    topology: topologySchema.default(() => topologySchema.parse({})),
    uplink: uplinkSchema.optional().describe('Consumer settings; leave out for a downlink-only integration.'),
    downlink: downlinkSchema.default(() => downlinkSchema.parse({})),
    replay: replaySchema.optional(),
  })
  .superRefine((c, issue) => {
    for (const [i, b] of c.topology.bindings.entries()) {
      const declared = c.topology.exchanges.find((e) => e.name === b.exchange);
      if (declared?.type === 'headers' && Object.keys(b.arguments).length === 0) {
        issue.addIssue({
          code: 'custom',
          path: ['topology', 'bindings', i, 'arguments'],
          message: 'header matches for a headers exchange, e.g. {"x-match": "all", "site": "north"}',
        });
      }
    }
  });

/** The validated configuration of one `rabbitmq` integration instance. */
export type RabbitmqConfig = z.output<typeof rabbitmqConfigSchema>;
/** The configuration as written in the config file (defaults optional). */
export type RabbitmqConfigInput = z.input<typeof rabbitmqConfigSchema>;
export type UplinkConfig = z.output<typeof uplinkSchema>;
export type DownlinkConfig = z.output<typeof downlinkSchema>;
export type TopologyConfig = z.output<typeof topologySchema>;
export type ReplayConfig = z.output<typeof replaySchema>;

/** The same schema as JSON Schema (draft 2020-12), for `tbi schema` and editors. */
export const configJsonSchema = z.toJSONSchema(rabbitmqConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
