import { DeliveryError, type OutboundDownlink } from '@tbi/plugin-api';
import type { DownlinkConfig } from './config.js';
import type { MessageProperties } from './driver/types.js';

/** Metadata keys that steer the publish or set a property instead of becoming headers. */
const STEERING = new Set([
  'exchange',
  'routingKey',
  'contentType',
  'contentEncoding',
  'correlationId',
  'messageId',
  'replyTo',
  'expiration',
  'priority',
  'type',
  'appId',
]);

const CONTENT_TYPES = { JSON: 'application/json', TEXT: 'text/plain', BINARY: 'application/octet-stream' } as const;

/** One downlink as an AMQP publish. */
export interface DownlinkPublish {
  exchange: string;
  routingKey: string;
  body: Buffer;
  properties: MessageProperties & { mandatory: boolean };
}

/**
 * Replaces `${name}` by `values[name]`. A name without a value is an error naming it (publishing
 * to a half-made routing key would route the command to the wrong place or nowhere).
 *
 * @example
 * renderTemplate('commands.${deviceName}', { deviceName: 'pump-1' }) // 'commands.pump-1'
 */
export function renderTemplate(template: string, values: Record<string, string>, field: string): string {
  return template.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    const key = name.trim().replace(/^metadata\./, '');
    const value = values[key];
    if (value === undefined) {
      throw new DeliveryError(`downlink ${field} "${template}" needs "${key}", which neither the device nor the converter's metadata has`, {
        retryable: false,
        context: { field, template },
      });
    }
    return value;
  });
}

/**
 * The publish for a downlink: exchange and routing key from the converter's metadata, else the
 * config's templates (filled from `deviceName` and the metadata); `contentType`, `correlationId`,
 * `messageId` (default: the command id), `replyTo`, `expiration`, `priority`, `type` from metadata
 * as properties, every other metadata key as a header; persistent by default.
 */
export function downlinkPublish(downlink: OutboundDownlink, config: DownlinkConfig): DownlinkPublish {
  const meta = downlink.encoded.metadata;
  const values = { ...meta, deviceName: downlink.deviceName };
  const exchange = meta.exchange ?? renderTemplate(config.exchange, values, 'exchange');
  const routingKey = meta.routingKey ?? renderTemplate(config.routingKey, values, 'routingKey');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) if (!STEERING.has(k)) headers[k] = v;
  const properties: DownlinkPublish['properties'] = {
    contentType: meta.contentType ?? CONTENT_TYPES[downlink.encoded.contentType],
    messageId: meta.messageId ?? downlink.commandId,
    timestamp: Math.floor(Date.now() / 1000),
    headers,
    mandatory: config.mandatory,
    ...(config.persistent ? { deliveryMode: 2 } : {}),
  };
  if (meta.contentEncoding) properties.contentEncoding = meta.contentEncoding;
  if (meta.correlationId) properties.correlationId = meta.correlationId;
  if (meta.replyTo) properties.replyTo = meta.replyTo;
  if (meta.expiration) properties.expiration = meta.expiration;
  if (meta.type) properties.type = meta.type;
  if (meta.appId) properties.appId = meta.appId;
  if (meta.priority !== undefined && /^\d+$/.test(meta.priority)) properties.priority = Number(meta.priority);
  return { exchange, routingKey, body: Buffer.from(downlink.payload), properties };
}
