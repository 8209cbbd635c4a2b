import type { Metadata } from './messages.js';

/** The kinds of platform command a downlink converter receives as `msgType`. */
export type DownlinkMsgType = 'ATTRIBUTES_UPDATED' | 'RPC_CALL_FROM_SERVER_TO_DEVICE' | 'POST_TELEMETRY_REQUEST' | (string & {});

/** What a downlink converter is called with: `Encoder(msg, metadata, msgType, integrationMetadata)`. */
export interface DownlinkRequest {
  msg: unknown;
  /** Rule-engine style metadata: `deviceName`, `deviceType`, `requestUUID`, `oneway`, `ss_*`… */
  metadata: Metadata;
  msgType: DownlinkMsgType;
  integrationMetadata: Metadata;
}

/** What a downlink converter returns, validated. BINARY `data` is Base64. */
export interface EncodedDownlink {
  contentType: 'JSON' | 'TEXT' | 'BINARY';
  data: string;
  /** Steers the connector: `topic` for MQTT, `key` for Kafka, `routingKey` for AMQP… */
  metadata: Metadata;
}

/** A downlink ready for a connector to send. */
export interface OutboundDownlink {
  /** The platform command it came from. */
  commandId: string;
  deviceName: string;
  /** The device's type as the platform's command metadata gave it, when it did. */
  deviceType?: string;
  encoded: EncodedDownlink;
  /** `encoded.data` as bytes (Base64-decoded for BINARY, UTF-8 otherwise). */
  payload: Uint8Array;
}
