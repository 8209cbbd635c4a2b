import { z } from 'zod';

// Values may come from `${env:NAME}` references, which are strings: numbers and booleans accept
// their string forms too (as the host's own schema does).
// No coercion here: the host turns `${env:…}` strings into the number or boolean that the
// published JSON Schema asks for at their place (host/src/config/coerce-to-schema.ts).
const int = () => z.number().int();
const bool = () => z.boolean();

/** `host:port`, or a comma-separated list of them. */
const bootstrapServers = z
  .union([z.string(), z.array(z.string()).min(1)])
  .meta({ examples: ['localhost:9092'] })
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port, e.g. 127.0.0.1:9092')).min(1))
  .describe('Bootstrap brokers: "host:port,host:port" or a list.');

const saslSchema = z
  .strictObject({
    mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']).default('SCRAM-SHA-512'),
    username: z.string().min(1),
    password: z.string().describe('Write ${env:NAME} so it comes from the environment; never logged.'),
  })
  .describe('SASL credentials (security protocols SASL_PLAINTEXT and SASL_SSL).');

const sslSchema = z
  .strictObject({
    ca: z.string().optional().describe('CA certificate(s): PEM text or a file path. Default: the system CAs.'),
    cert: z.string().optional().describe('Client certificate for mutual TLS: PEM text or a file path.'),
    key: z.string().optional().describe('Client private key: PEM text or a file path.'),
    passphrase: z.string().optional().describe('Passphrase of the client key.'),
    rejectUnauthorized: bool().default(true).describe('Verify the broker certificate (turn off only for tests).'),
    servername: z.string().optional().describe('SNI / certificate host name, when it differs from the broker host.'),
  })
  .describe('TLS settings (security protocols SSL and SASL_SSL).');

const uplinkSchema = z
  .strictObject({
    topics: z.array(z.string().min(1)).default([]).describe('Topics to consume.'),
    topicPattern: z
      .string()
      .optional()
      .refine((p) => p === undefined || isRegExp(p), 'a JavaScript regular expression')
      .describe('Regular expression; every matching topic is consumed (checked again every topicRefreshMs).'),
    topicRefreshMs: int().positive().default(30_000).describe('How often topicPattern is matched against the topic list.'),
    autoCreateTopics: bool()
      .default(false)
      .describe('Create the topics of `topics` that do not exist at start; otherwise the integration waits for them (health degraded).'),
    newTopicPartitions: int()
      .refine((n) => n === -1 || n >= 1, 'a positive number, or -1 for the broker default')
      .default(-1)
      .describe("Partitions of a topic made by autoCreateTopics; -1: the broker's num.partitions."),
    newTopicReplicationFactor: int()
      .refine((n) => n === -1 || n >= 1, 'a positive number, or -1 for the broker default')
      .default(-1)
      .describe("Replication factor of a topic made by autoCreateTopics; -1: the broker's default.replication.factor."),
    groupId: z.string().min(1).optional().describe('Consumer group; default "tbi-<integration name>".'),
    autoOffsetReset: z.enum(['earliest', 'latest']).default('earliest').describe('Where a group without a committed offset starts.'),
    sessionTimeoutMs: int().min(3000).default(30_000).describe('Group session timeout: a silent member is dropped after it.'),
    heartbeatIntervalMs: int().positive().default(3000).describe('Group heartbeat interval (well below sessionTimeoutMs).'),
    rebalanceTimeoutMs: int().positive().default(60_000).describe('How long members get to rejoin during a rebalance.'),
    maxPollRecords: int().positive().default(500).describe('Largest batch handed to the converter (one sandbox call).'),
    // Per partition smaller than Kafka's 1 MiB: one fetch is what the host holds beyond its
    // pipeline, and the limit counts compressed bytes, so 1 MiB per partition of small lz4 records
    // was 250,000 records in memory (1.2 GB resident while draining a backlog). A 256 KiB
    // fetch.max.bytes as well kept the group from settling after a broker outage (conformance).
    maxPollBytes: int().positive().default(52_428_800).describe('Fetch response limit (fetch.max.bytes); bounds what one fetch brings into memory.'),
    maxPartitionFetchBytes: int()
      .positive()
      .default(65_536)
      .describe('Per-partition fetch limit (max.partition.fetch.bytes); bounds what one fetch brings into memory.'),
    fetchMaxWaitMs: int().positive().default(500).describe('How long the broker may hold a fetch waiting for data.'),
    maxInFlightBatches: int().positive().default(4).describe('Batches in the pipeline at once; the consumer pauses beyond it.'),
    commitIntervalMs: int().min(0).default(500).describe('Stored offsets are committed at most this often (0: after every batch).'),
    deadLetterTopic: z
      .string()
      .min(1)
      .optional()
      .describe("Failed conversions are produced here with the error in headers (Kafka Connect style); default: the host's dead letters."),
    lagIntervalMs: int().min(0).default(10_000).describe('How often consumer lag per partition is measured (0: never).'),
  })
  .refine((u) => u.topics.length > 0 || u.topicPattern !== undefined, { message: 'topics or topicPattern is required' })
  .describe('Consumer (uplink) settings.');

const downlinkSchema = z
  .strictObject({
    topic: z.string().min(1).optional().describe("Target topic; the downlink converter's metadata.topic wins."),
    acks: z.enum(['all', 'leader', 'none']).default('all').describe('all = every in-sync replica (required by idempotence).'),
    idempotent: bool().default(true).describe('Idempotent producer: retries never duplicate or reorder records.'),
    compression: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']).default('none'),
    lingerMs: int().min(0).default(5).describe('How long a downlink waits for others to share its produce request.'),
    batchSize: int().positive().default(500).describe('Most records in one produce request.'),
    timeoutMs: int().positive().default(30_000).describe('A downlink not acknowledged by then fails.'),
  })
  .describe('Producer (downlink) settings.');

/**
 * The `config` block of a `kafka` integration.
 *
 * @example
 * { bootstrapServers: '127.0.0.1:9092', uplink: { topics: ['telemetry'], groupId: 'tbi' },
 *   downlink: { topic: 'commands' }, securityProtocol: 'SASL_SSL',
 *   sasl: { mechanism: 'SCRAM-SHA-512', username: 'tbi', password: '${env:KAFKA_PASSWORD}' } }
 */
export const kafkaConfigSchema = z
  .strictObject({
    bootstrapServers,
    clientId: z.string().min(1).default('tbi').describe('Client id the broker sees (logs, quotas).'),
    securityProtocol: z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']).default('PLAINTEXT'),
    sasl: saslSchema.optional(),
    ssl: sslSchema.optional(),
    connectTimeoutMs: int().positive().default(10_000),
    requestTimeoutMs: int().positive().default(30_000),
    uplink: uplinkSchema.optional().describe('Consumer settings; leave out for a downlink-only integration.'),
    downlink: downlinkSchema.default(() => downlinkSchema.parse({})),
    properties: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Extra options passed as they are to the @platformatic/kafka clients (e.g. retries, retryDelay, metadataMaxAge).'),
  })
  .superRefine((c, issue) => {
    const sasl = c.securityProtocol.startsWith('SASL_');
    if (sasl && c.sasl === undefined) {
      issue.addIssue({ code: 'custom', path: ['sasl'], message: `sasl (mechanism, username, password) is required with ${c.securityProtocol}` });
    }
    if (!sasl && c.sasl !== undefined) {
      issue.addIssue({ code: 'custom', path: ['securityProtocol'], message: 'SASL_PLAINTEXT or SASL_SSL when sasl is given' });
    }
    if (c.downlink.idempotent && c.downlink.acks !== 'all') {
      issue.addIssue({ code: 'custom', path: ['downlink', 'acks'], message: '"all" for an idempotent producer (or idempotent: false)' });
    }
  });

/** The validated configuration of one `kafka` integration instance. */
export type KafkaConfig = z.output<typeof kafkaConfigSchema>;
/** The configuration as written in the config file (defaults optional). */
export type KafkaConfigInput = z.input<typeof kafkaConfigSchema>;
export type UplinkConfig = z.output<typeof uplinkSchema>;
export type DownlinkConfig = z.output<typeof downlinkSchema>;

/** The same schema as JSON Schema (draft 2020-12), for `tbi schema` and editors. */
export const configJsonSchema = z.toJSONSchema(kafkaConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

function isRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
