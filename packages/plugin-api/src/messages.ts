/** String key/values that travel with a message: MQTT topic, HTTP headers, Kafka offset… */
export type Metadata = Record<string, string>;

/**
 * One message as a connector received it, before conversion.
 *
 * The connector keeps the message's acknowledgement to its source (Kafka offset, AMQP delivery
 * tag, MQTT packet id, HTTP response) and completes it only when `UplinkService.submit` has
 * resolved the message's outcome: that is the at-least-once contract.
 */
export interface RawMessage {
  /** The bytes exactly as received. */
  payload: Uint8Array;
  /** Connector metadata; the converter sees it merged over the integration's own metadata. */
  metadata: Metadata;
  /**
   * Where the message sits at its source, stable across redeliveries (for example
   * `orders/3/1842` for a Kafka topic/partition/offset). The platform stores a message with a
   * given `sourceId` once, so a redelivery after a crash does not double data. Leave it out when
   * the source has no stable position (HTTP, MQTT QoS 0).
   */
  sourceId?: string;
  /** When the connector received the message (epoch ms); default telemetry timestamp. */
  receivedAt?: number;
}
