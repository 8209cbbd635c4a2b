import { z } from 'zod';
import type { ExclusiveKey } from '@tbi/plugin-api';
import { isValidFilter } from './topic-filter.js';
import { patternProblem, type PatternScope } from './topic-pattern.js';

// Values may come from `${env:NAME}` references, which are strings: numbers and booleans accept
// their string forms too (as the host's own schema does).
// No coercion here: the host turns `${env:…}` strings into the number or boolean that the
// published JSON Schema asks for at their place (host/src/config/coerce-to-schema.ts).
const int = () => z.number().int();
const bool = () => z.boolean();
const qos = () => z.union([z.literal(0), z.literal(1), z.literal(2), z.enum(['0', '1', '2']).transform((v) => Number(v) as 0 | 1 | 2)]);

/** A topic filter: MQTT wildcards `+` (one level) and `#` (the rest, last). */
const topicFilter = z.string().min(1).refine(isValidFilter, { message: 'an MQTT topic filter: "+" only as a whole level, "#" only as the last level' });

const topicFilterSchema = z
  .strictObject({
    filter: topicFilter.describe('Topic filter, e.g. sensors/+/telemetry; may be a shared subscription $share/<group>/<filter>.'),
    qos: qos().default(1).describe('Subscription QoS. 1 or 2: acknowledged to the broker only after the platform stored the message.'),
    deviceNamePattern: z.string().min(1).optional().describe('Overrides deviceNamePattern for this filter.'),
    deviceTypePattern: z.string().min(1).optional().describe('Overrides deviceTypePattern for this filter.'),
  })
  .describe('One subscription.');

const tlsSchema = z
  .strictObject({
    enabled: bool().default(true).describe('Connect with TLS (mqtts).'),
    ca: z.string().min(1).optional().describe('CA certificate(s): PEM text or a path to a PEM file. Default: the system CAs.'),
    cert: z.string().min(1).optional().describe('Client certificate: PEM text or a path to a PEM file.'),
    key: z.string().min(1).optional().describe('Client private key: PEM text or a path to a PEM file.'),
    keyPassword: z.string().optional().describe('Passphrase of the private key; write ${env:NAME}.'),
    verify: bool().default(true).describe('Verify the broker certificate and host name. Turn off only for tests.'),
    servername: z.string().optional().describe('Server name (SNI) and the name checked in the certificate; default the host.'),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), { message: 'cert and key go together' })
  .describe('TLS settings; ThingsBoard "PEM" credentials.');

const reconnectSchema = z
  .strictObject({
    initialDelayMs: int().positive().default(1_000).describe('First wait before reconnecting.'),
    maxDelayMs: int().positive().default(30_000).describe('The wait doubles after each failed attempt, up to this.'),
    jitter: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe('Random part of each wait: 0.2 waits between 80 % and 100 % of it, 1 anywhere from 0 to all of it (full jitter).'),
  })
  .describe('Reconnection: for ever, with exponential backoff.');

const batchSchema = z
  .strictObject({
    maxMessages: int().positive().default(500).describe('Most messages handed to the pipeline at once.'),
    lingerMs: int().min(0).default(5).describe('How long to gather messages before handing them over (0: same event-loop turn only).'),
  })
  .describe('Micro-batches: messages that arrive together are converted and stored together.');

const downlinkSchema = z
  .strictObject({
    topicPattern: z
      .string()
      .min(1)
      .default('${topic}')
      .describe(
        "Topic when the downlink converter sets no metadata.topic: ${deviceName}, ${deviceType} and converter metadata keys (${key}); the default ${topic} takes the converter's metadata.topic.",
      ),
    qos: qos().default(1).describe("QoS of downlink publishes; 1 and 2 wait for the broker's acknowledgement."),
    retain: bool().default(false).describe('Publish downlinks as retained messages.'),
    timeoutMs: int().positive().default(10_000).describe('Time limit for one publish to be acknowledged.'),
  })
  .describe('Downlink publishes.');

/**
 * The `config` block of an `mqtt` integration. ThingsBoard's MQTT integration defaults where it has
 * them (port 1883/8883, protocol 3.1.1, 32368 bytes per message, 10 s connect timeout, downlink
 * QoS 1 to `${topic}`), except `cleanSession`, which defaults to `false` so messages published
 * while the host is down wait in the broker (tbi is at-least-once).
 *
 * @example
 * { host: 'broker.local', topicFilters: [{ filter: 'sensors/+/telemetry', qos: 1 }], deviceNamePattern: '${topic[1]}' }
 */
export const mqttConfigSchema = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .meta({ description: 'Broker host name or IP address.', examples: ['localhost'] }),
    port: int().min(1).max(65535).optional().describe('Broker port; default 1883, or 8883 with TLS.'),
    protocolVersion: z
      .enum(['3.1', '3.1.1', '5'])
      .default('3.1.1')
      .describe('MQTT protocol version. 5 adds shared subscriptions, receive maximum, session expiry, user properties.'),
    clientId: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('Client ID; generated as tbi-<integration>-<random> and kept in the data dir (so the persistent session survives restarts) when absent.'),
    username: z.string().optional().describe('ThingsBoard "basic" credentials: user name.'),
    password: z.string().optional().describe('Password; write ${env:NAME} so it comes from the environment.'),
    tls: tlsSchema.optional(),
    keepaliveSec: int().min(0).max(65535).default(60).describe('MQTT keepalive.'),
    connectTimeoutSec: int().positive().default(10).describe('Time limit for the TCP/TLS connection and CONNACK.'),
    cleanSession: bool()
      .default(false)
      .describe('false (default): a persistent session, so QoS 1/2 messages published while the host is down are delivered after it restarts.'),
    sessionExpirySec: int()
      .min(0)
      .max(4_294_967_295)
      .default(604_800)
      .describe('MQTT 5: how long the broker keeps the session while disconnected (default one week). Ignored with cleanSession.'),
    receiveMaximum: int()
      .min(1)
      .max(65535)
      .default(4000)
      .describe(
        "MQTT 5: most QoS 1/2 messages the broker sends before the host acknowledges them (the in-flight window). With 3.1.1, or with a QoS 2 filter, the broker's own limit applies.",
      ),
    reconnect: reconnectSchema.prefault({}),
    topicFilters: z.array(topicFilterSchema).min(1).describe('Subscriptions, each with its QoS.'),
    sharedGroup: z
      .string()
      .regex(/^[^/+#]+$/, 'a name without "/", "+" or "#"')
      .optional()
      .describe('Subscribe every filter as the MQTT 5 shared subscription $share/<group>/<filter>, so several hosts split the stream.'),
    deviceNamePattern: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Device name from the topic, e.g. ${topic[1]} (second level) or ${topic[1:3]} (levels 1 and 2 joined with "-"); given to the converter as metadata.deviceName.',
      ),
    deviceTypePattern: z.string().min(1).optional().describe('Device type from the topic, e.g. ${topic[0]}; given to the converter as metadata.deviceType.'),
    maxMessageBytes: int()
      .positive()
      .default(32_368)
      .describe('Larger messages are dead-lettered with a reason and never reach the converter (ThingsBoard "max bytes in message").'),
    batch: batchSchema.prefault({}),
    stopGraceMs: int()
      .min(0)
      .default(5_000)
      .describe('On stop, how long to wait for messages in flight to be stored and acknowledged; the rest are redelivered by the broker.'),
    downlink: downlinkSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const shared = config.sharedGroup !== undefined || config.topicFilters.some((f) => f.filter.startsWith('$share/'));
    if (shared && config.protocolVersion !== '5') {
      ctx.addIssue({ code: 'custom', path: ['protocolVersion'], message: 'shared subscriptions need protocolVersion "5"' });
    }
    if (config.topicFilters.some((f) => f.filter.startsWith('$share/')) && config.sharedGroup !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['sharedGroup'], message: 'either sharedGroup or $share/ filters, not both' });
    }
  })
  .superRefine((config, ctx) => {
    // Placeholders are checked here, against each filter they apply to: `${topik[1]}` or a level
    // no matching topic has would otherwise only ever give "no device name", silently.
    const reported = new Set<string>();
    const check = (pattern: string | undefined, path: (string | number)[], scope: PatternScope, filter?: string) => {
      const message = pattern === undefined ? undefined : patternProblem(pattern, scope, filter);
      if (message === undefined || reported.has(`${path.join('.')} ${message}`)) return;
      reported.add(`${path.join('.')} ${message}`);
      ctx.addIssue({ code: 'custom', path, message });
    };
    config.topicFilters.forEach((f, i) => {
      for (const key of ['deviceNamePattern', 'deviceTypePattern'] as const) {
        check(f[key] ?? config[key], f[key] === undefined ? [key] : ['topicFilters', i, key], 'uplink', f.filter);
      }
    });
    check(config.downlink.topicPattern, ['downlink', 'topicPattern'], 'downlink');
  });

/** A validated `mqtt` integration config, defaults applied. */
export type MqttConfig = z.output<typeof mqttConfigSchema>;
/** What a user may write in the config file. */
export type MqttConfigInput = z.input<typeof mqttConfigSchema>;

/** The config schema as JSON Schema (draft 2020-12), for `tbi schema` and editors. */
export const configJsonSchema = z.toJSONSchema(mqttConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

/**
 * What an `mqtt` instance claims: its configured client id on its broker. A broker lets one
 * connection per client id live, so two instances with the same one would take turns kicking
 * each other off. A generated id (no `clientId`) is unique per integration.
 */
export function mqttExclusiveKeys(config: MqttConfig): ExclusiveKey[] {
  if (config.clientId === undefined) return [];
  const tls = config.tls?.enabled;
  const broker = `${config.host.toLowerCase()}:${config.port ?? (tls ? 8883 : 1883)}`;
  return [{ key: `${broker} ${config.clientId}`, path: ['clientId'], label: `client id "${config.clientId}" on ${broker}` }];
}
