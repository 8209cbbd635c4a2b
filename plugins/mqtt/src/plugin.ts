import { definePlugin, type Integration, type IntegrationContext } from '@tbi/plugin-api';
import path from 'node:path';
import type { IClientOptions } from 'mqtt';
import { resolveClientId } from './client-id.js';
import { configJsonSchema, mqttExclusiveKeys, mqttConfigSchema, type MqttConfig } from './config.js';
import { MqttConnection } from './connection.js';
import { MqttSink } from './sink.js';
import { DurableIncomingStore } from './qos2-store.js';
import { MqttSource } from './source.js';
import { loadTls } from './tls-files.js';

const PROTOCOLS = {
  '3.1': { protocolVersion: 3, protocolId: 'MQIsdp' },
  '3.1.1': { protocolVersion: 4, protocolId: 'MQTT' },
  '5': { protocolVersion: 5, protocolId: 'MQTT' },
} as const;

const noLog = (): void => {};

/** Builds the `mqtt` client options from a validated config (no I/O besides reading TLS files). */
export async function clientOptions(config: MqttConfig, clientId: string, configDir = process.cwd()): Promise<{ options: IClientOptions; url: string }> {
  const tls = await loadTls(config.tls, configDir);
  const port = config.port ?? (tls ? 8883 : 1883);
  const protocol = tls ? 'mqtts' : 'mqtt';
  const v5 = config.protocolVersion === '5';
  const options: IClientOptions = {
    protocol,
    host: config.host,
    port,
    ...PROTOCOLS[config.protocolVersion],
    clientId,
    keepalive: config.keepaliveSec,
    connectTimeout: config.connectTimeoutSec * 1000,
    clean: config.cleanSession,
    // A QoS 0 downlink while disconnected fails at once instead of waiting in memory.
    queueQoSZero: false,
    // mqtt.js logs several lines per packet through `debug`; even disabled, each costs a call and
    // an "enabled?" check (about 5 % of the host's CPU in a backlog drain). Kept when DEBUG is set.
    ...(process.env.DEBUG === undefined && { log: noLog }),
    ...(config.username !== undefined && { username: config.username }),
    ...(config.password !== undefined && { password: config.password }),
    ...(v5 && {
      properties: {
        sessionExpiryInterval: config.cleanSession ? 0 : config.sessionExpirySec,
        // With QoS 2 subscriptions the receive maximum is not sent: Mosquitto 2.0 refills its
        // send quota at PUBREC (MQTT 5 §4.9 says PUBCOMP) and so exceeds it, and the client then
        // drops the connection with "Receive Maximum exceeded" (seen with mqtt 5.16).
        ...(!config.topicFilters.some((f) => f.qos === 2) && { receiveMaximum: config.receiveMaximum }),
      },
    }),
    ...tls,
  };
  const url = `${protocol}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  return { options, url };
}

/**
 * Creates one MQTT integration instance: a connection that reconnects for ever, the uplink
 * (subscriptions, micro-batches, PUBACK after storage) and the downlink (publishes).
 */
export async function createMqttIntegration(ctx: IntegrationContext<MqttConfig>): Promise<Integration> {
  const config = ctx.config;
  const clientId = await resolveClientId(config.clientId, ctx.name, ctx.dataDir);
  const { options, url } = await clientOptions(config, clientId, ctx.configDir);
  // QoS 2 messages between PUBREC and PUBREL exist only in the client's incoming store: keep it on disk.
  const qos2 = config.topicFilters.some((f) => f.qos === 2)
    ? new DurableIncomingStore(path.join(ctx.dataDir, 'qos2-incoming'), (err) =>
        ctx.logger.error({ err: err.message }, 'could not write a QoS 2 message to disk'),
      )
    : undefined;
  if (qos2) options.incomingStore = qos2;
  let source: MqttSource | undefined;
  const connection = new MqttConnection(
    {
      client: options,
      reconnect: config.reconnect,
      url,
      logger: ctx.logger,
      metrics: {
        connected: ctx.metrics.gauge('tbi_mqtt_connected', '1 while connected to the MQTT broker, else 0.'),
        reconnects: ctx.metrics.counter('tbi_mqtt_reconnect_attempts_total', 'Reconnection attempts to the MQTT broker.'),
      },
    },
    {
      onConnect(sessionPresent) {
        if (!sessionPresent) qos2?.clear();
        source?.onConnect(sessionPresent);
      },
      onClose: () => source?.onClose(),
    },
  );
  source = new MqttSource(ctx, connection);
  const sink = new MqttSink(ctx, connection);
  const uplink = source;
  let stopped = false;

  return {
    async start() {
      // Started means taking messages: after the first SUBACK when the broker is there.
      await connection.start();
      await uplink.subscribed();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await uplink.stop(config.stopGraceMs);
      await connection.stop();
    },
    health() {
      const health = connection.health();
      if (health.status !== 'up') return health;
      // Not up before the SUBACK: messages published before it may not reach this client.
      const subscribing = uplink.subscribing;
      if (subscribing === 'first') return { status: 'starting', detail: `${health.detail}; subscribing` };
      if (subscribing === 'again') return { status: 'degraded', detail: `${health.detail}; subscribing again` };
      if (uplink.problem !== undefined) return { status: 'degraded', detail: uplink.problem };
      return health;
    },
    pause: () => uplink.pause(),
    resume: () => uplink.resume(),
    send: (downlink) => sink.send(downlink),
  };
}

/** The `mqtt` integration type: `type: mqtt` in the host config. */
export default definePlugin<MqttConfig>({
  type: 'mqtt',
  configSchema: mqttConfigSchema,
  configJsonSchema,
  exclusiveKeys: mqttExclusiveKeys,
  downlink: 'push',
  create: createMqttIntegration,
});
