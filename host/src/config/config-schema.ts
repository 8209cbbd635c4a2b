import { DEFAULT_MAX_SOURCE_BYTES, LIMIT_RANGES } from '@tbi/converter-sandbox';
import { z } from 'zod';

/**
 * An integer within [min, max]: every number in the file is bounded, so a typo (`poolSize: 1000`)
 * is a clear error at its line, not a crash later. Numbers may come from `${env:NAME}`
 * references, which are strings: coerce them.
 */
function intRange(min: number, max: number) {
  const message = `an integer from ${min} to ${max}`;
  return z.coerce.number({ message }).int({ message }).min(min, { message }).max(max, { message });
}

const port = intRange(0, 65535);

/** Where a converter's source comes from: exactly one of `inline` and `file`. */
export const converterSourceSchema = z
  .object({
    inline: z.string().min(1).optional().describe('The converter source, inline.'),
    file: z.string().min(1).optional().describe('Path of the converter file, relative to the config file.'),
  })
  .strict()
  .refine((v) => (v.inline === undefined) !== (v.file === undefined), {
    message: 'expected exactly one of "inline" and "file"',
  })
  .describe('A converter: `{ file: converters/x.js }` or `{ inline: "..." }`.');

/** Time and memory limits for one converter call. */
export const converterLimitsSchema = z
  .object({
    timeoutMs: intRange(...LIMIT_RANGES.timeoutMs)
      .optional()
      .describe('Time limit of one converter call (one batch), in ms.'),
    memoryMb: intRange(...LIMIT_RANGES.memoryMb)
      .optional()
      .describe('Heap limit of the converter isolate, in MiB.'),
  })
  .strict();

const metadataValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

/** Event export: every record the platform stores, published through this integration's connector. */
export const exportSchema = z
  .object({
    converter: converterSourceSchema.describe(
      'The encoder (a downlink converter: msg, metadata, msgType, integrationMetadata) called with POST_TELEMETRY_REQUEST, POST_ATTRIBUTES_REQUEST and ENTITY_CREATED.',
    ),
    deviceTypes: z.array(z.string().min(1)).min(1).optional().describe('Only devices of these types (default all).'),
    keys: z.array(z.string().min(1)).min(1).optional().describe('Only these telemetry and attribute keys (default all).'),
    events: z
      .array(z.enum(['telemetry', 'attributes', 'devices']))
      .min(1)
      .optional()
      .describe('Which events: telemetry, attributes, devices (created). Default all three.'),
    batchSize: intRange(1, 10_000).default(500).describe('Stored records read and published per round; the cursor is committed after each.'),
    errors: z.enum(['stop', 'skip']).default('stop').describe('A record the encoder fails on: stop (retry until the converter is fixed) or skip it.'),
  })
  .strict()
  .describe('Publish every stored record through this integration (needs the embedded platform and a connector that sends).');

/** One integration instance. Its `config` block is validated by its plugin's own schema. */
export const integrationSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: 'expected a name of letters, digits, "_", "." and "-"' })
      .describe('Unique name of this instance; used in logs, metrics and the API.'),
    type: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, { message: 'expected a lower-case integration type such as "mqtt"' })
      .describe('The integration type, provided by an installed plugin (http, mqtt, kafka…).'),
    enabled: z.boolean().default(true).describe('Start this integration with the host.'),
    config: z.record(z.string(), z.unknown()).default({}).describe("The connector's settings (see its plugin)."),
    metadata: z.record(z.string(), metadataValue).default({}).describe('Key/values given to the converters.'),
    uplinkConverter: converterSourceSchema,
    downlinkConverter: converterSourceSchema.optional(),
    converterLimits: converterLimitsSchema.optional(),
    maxInFlight: intRange(1, 1_000_000).optional().describe('Messages of this integration in the pipeline at once.'),
    export: exportSchema.optional(),
    debug: z
      .object({ mode: z.enum(['off', 'all', 'failures']).default('failures') })
      .strict()
      .default({ mode: 'failures' })
      .describe('Which converter runs are kept as debug events.'),
  })
  .strict();

const embeddedPlatformSchema = z
  .object({
    type: z.literal('embedded'),
    telemetryTtlDays: intRange(1, 36_500).optional().describe('Delete telemetry older than this many days.'),
    recordLogRetentionDays: intRange(1, 3650)
      .optional()
      .describe('How long the log of stored records keeps entries an export has not published yet (default 7).'),
  })
  .strict();

const thingsboardPlatformSchema = z
  .object({
    type: z.literal('thingsboard'),
    host: z.string().min(1).describe('Host of the ThingsBoard MQTT transport, e.g. thingsboard.cloud.'),
    port: port.optional().describe('MQTT port (default 1883, 8883 with tls).'),
    accessToken: z.string().min(1).describe('Access token of the gateway device (use ${env:TB_GATEWAY_TOKEN}).'),
    protocolVersion: z
      .union([z.literal(4), z.literal(5)])
      .default(4)
      .describe('MQTT 3.1.1 (4) or 5.'),
    clientId: z.string().min(1).optional(),
    tls: z
      .object({
        ca: z.string().optional().describe('PEM text, or a PEM file (relative to the config file), of the CA.'),
        cert: z.string().optional().describe('PEM text or file of the client certificate (X.509 gateway credentials).'),
        key: z.string().optional().describe('PEM text or file of the client key.'),
        rejectUnauthorized: z.boolean().default(true),
      })
      .strict()
      .optional(),
    delivery: z.enum(['outbox', 'strict']).default('outbox').describe("outbox: stored once in the local outbox; strict: only on ThingsBoard's PUBACK."),
    outboxMaxRecords: intRange(1, 1_000_000_000).optional().describe('Records the outbox holds before back-pressure (default 1 000 000).'),
    outboxMaxAgeDays: intRange(1, 3650).optional().describe('Age of the oldest waiting record before back-pressure (default 7).'),
    deviceIdleSeconds: intRange(0, 31_536_000).optional().describe('Disconnect devices silent this long (default 3600, 0 = never).'),
  })
  .strict();

/** The whole host configuration file. */
export const hostConfigSchema = z
  .object({
    $schema: z.string().optional(),
    http: z
      .object({
        host: z.string().default('0.0.0.0').describe('Interface to listen on.'),
        port: port.default(8080),
        tls: z
          .object({ cert: z.string().describe('PEM certificate file.'), key: z.string().describe('PEM key file.') })
          .strict()
          .optional(),
        bodyLimitBytes: intRange(1, 268_435_456).default(1_048_576).describe('Largest request body accepted, in bytes.'),
      })
      .strict()
      .default({ host: '0.0.0.0', port: 8080, bodyLimitBytes: 1_048_576 }),
    auth: z
      .object({ token: z.string().min(1).optional().describe('Bearer token of the control API (or env TBI_TOKEN).') })
      .strict()
      .default({}),
    console: z
      .object({ enabled: z.boolean().default(true).describe('Serve the web console at /console (it signs in with the control token).') })
      .strict()
      .default({ enabled: true })
      .describe('The web console (`@tbi/console`).'),
    dataDir: z.string().default('./.data').describe('Directory for the host state, relative to the config file.'),
    platform: z
      .discriminatedUnion('type', [embeddedPlatformSchema, thingsboardPlatformSchema])
      .default({ type: 'embedded' })
      .describe('Where device data goes.'),
    plugins: z.array(z.string().min(1)).default([]).describe('Extra plugins: package names or local paths.'),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      })
      .strict()
      .default({ level: 'info' }),
    shutdownGraceMs: intRange(1, 3_600_000).default(10_000).describe('Longest clean shutdown before the host exits anyway.'),
    converters: z
      .object({
        poolSize: intRange(...LIMIT_RANGES.poolSize)
          .optional()
          .describe('Isolates shared by all converters.'),
        processes: intRange(1, 64)
          .optional()
          .describe("Converter processes the host supervises (default 2, or 1 on one core); each integration's converters run in one of them."),
        processMemoryMb: intRange(64, 65_536).optional().describe('Memory of one converter process, in MiB (default 1024): above it the process is restarted.'),
        limits: converterLimitsSchema.optional().describe('Default limits of every converter.'),
        maxSourceBytes: intRange(1, 67_108_864)
          .default(DEFAULT_MAX_SOURCE_BYTES)
          .describe('Largest converter file read, in bytes; larger files (and non-regular files) are refused.'),
      })
      .strict()
      .default({ maxSourceBytes: DEFAULT_MAX_SOURCE_BYTES }),
    integrations: z.array(integrationSchema).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.integrations.forEach((integration, i) => {
      const first = seen.get(integration.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['integrations', i, 'name'],
          message: `expected a unique name, but integrations[${first}] is also called "${integration.name}"`,
        });
      }
      seen.set(integration.name, i);
      if (integration.export && config.platform.type !== 'embedded') {
        ctx.addIssue({
          code: 'custom',
          path: ['integrations', i, 'export'],
          message: `expected no export with platform type "${config.platform.type}": exports read the embedded platform's log of stored records (ThingsBoard exports through its own rule engine)`,
        });
      }
    });
  });

/** The validated host configuration. */
export type HostConfig = z.output<typeof hostConfigSchema>;
/** One validated integration entry. */
export type IntegrationEntry = z.output<typeof integrationSchema>;
/** The `export` block of an integration entry. */
export type ExportEntry = z.output<typeof exportSchema>;
/** A converter source entry. */
export type ConverterSourceEntry = z.output<typeof converterSourceSchema>;
