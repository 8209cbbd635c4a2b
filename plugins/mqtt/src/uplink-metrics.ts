import type { Counter, Gauge, Metrics } from '@tbi/plugin-api';

/** The MQTT connector's own metrics (the host adds the `integration` label). */
export interface UplinkMetrics {
  received: Counter;
  acked: Counter;
  unacked: Gauge;
  oversized: Counter;
  blocked: Counter;
}

export function uplinkMetrics(metrics: Metrics): UplinkMetrics {
  return {
    received: metrics.counter('tbi_mqtt_messages_received_total', 'MQTT messages received, by QoS.', ['qos']),
    acked: metrics.counter('tbi_mqtt_messages_acked_total', 'QoS 1/2 messages acknowledged to the broker after they were stored.'),
    unacked: metrics.gauge('tbi_mqtt_messages_unacked', 'QoS 1/2 messages received on the current connection and not yet acknowledged.'),
    oversized: metrics.counter('tbi_mqtt_messages_oversized_total', 'Messages larger than maxMessageBytes, dead-lettered without conversion.'),
    blocked: metrics.counter('tbi_mqtt_reads_blocked_total', 'Times the connector stopped reading the socket: paused with 10 000 messages held.'),
  };
}
