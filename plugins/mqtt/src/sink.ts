import { DeliveryError, type Counter, type IntegrationContext, type OutboundDownlink } from '@tbi/plugin-api';
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import type { MqttConfig } from './config.js';
import { compilePattern, type CompiledPattern } from './topic-pattern.js';

const CONTENT_TYPES = { JSON: 'application/json', TEXT: 'text/plain', BINARY: 'application/octet-stream' } as const;

/** What the sink needs from the connection. */
export interface SinkConnection {
  readonly client: MqttClient;
  readonly connected: boolean;
}

/**
 * The downlink: publishes what the downlink converter produced. The topic is the converter's
 * `metadata.topic`, else `downlink.topicPattern` rendered with `${deviceName}`, `${deviceType}`,
 * `${commandId}` and the converter's metadata keys (which win over the platform's `deviceType`). The converter may also set `metadata.qos` and `metadata.retain`.
 * QoS 1/2 publishes resolve only when the broker acknowledged them.
 */
export class MqttSink {
  readonly #config: MqttConfig;
  readonly #conn: SinkConnection;
  readonly #pattern: CompiledPattern;
  readonly #count: Counter;

  constructor(ctx: IntegrationContext<MqttConfig>, conn: SinkConnection) {
    this.#config = ctx.config;
    this.#conn = conn;
    this.#pattern = compilePattern(ctx.config.downlink.topicPattern, 'config.downlink.topicPattern', 'downlink');
    this.#count = ctx.metrics.counter('tbi_mqtt_downlinks_total', 'Downlink publishes, by result.', ['result']);
  }

  async send(downlink: OutboundDownlink): Promise<void> {
    try {
      await this.#publish(downlink);
      this.#count.inc({ result: 'published' });
    } catch (error) {
      this.#count.inc({ result: 'failed' });
      throw error;
    }
  }

  /** The topic, QoS and retain flag a downlink goes out with. */
  target(downlink: OutboundDownlink): { topic: string; qos: 0 | 1 | 2; retain: boolean } {
    const meta = downlink.encoded.metadata ?? {};
    const topic =
      meta.topic !== undefined && meta.topic !== ''
        ? meta.topic
        : this.#pattern({ values: { deviceType: downlink.deviceType, ...meta, deviceName: downlink.deviceName, commandId: downlink.commandId } });
    if (topic === undefined || topic === '' || /[+#]/.test(topic)) {
      throw new DeliveryError(
        `no topic for the downlink to ${downlink.deviceName}: the downlink converter set no metadata.topic and downlink.topicPattern ${JSON.stringify(this.#config.downlink.topicPattern)} ${topic ? `gave the wildcard topic ${JSON.stringify(topic)}` : 'has no value for it'}`,
        { retryable: false, context: { device: downlink.deviceName, commandId: downlink.commandId } },
      );
    }
    const qos = meta.qos === '0' || meta.qos === '1' || meta.qos === '2' ? (Number(meta.qos) as 0 | 1 | 2) : this.#config.downlink.qos;
    const retain = meta.retain === 'true' ? true : meta.retain === 'false' ? false : this.#config.downlink.retain;
    return { topic, qos, retain };
  }

  #publish(downlink: OutboundDownlink): Promise<void> {
    const { topic, qos, retain } = this.target(downlink);
    const context = { device: downlink.deviceName, commandId: downlink.commandId, topic };
    if (!this.#conn.connected) {
      return Promise.reject(new DeliveryError('not connected to the MQTT broker', { retryable: true, context }));
    }
    const options: IClientPublishOptions = { qos, retain };
    if (this.#config.protocolVersion === '5') options.properties = { contentType: CONTENT_TYPES[downlink.encoded.contentType] };
    const timeoutMs = this.#config.downlink.timeoutMs;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new DeliveryError(`the MQTT broker did not acknowledge the publish within ${timeoutMs} ms`, { retryable: true, context })),
        timeoutMs,
      );
      this.#conn.client.publish(topic, Buffer.from(downlink.payload), options, (error) => {
        clearTimeout(timer);
        if (error) reject(new DeliveryError(`MQTT publish failed: ${error.message}`, { retryable: true, cause: error, context }));
        else resolve();
      });
    });
  }
}
