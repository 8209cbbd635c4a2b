import type { Clock, Logger, Metrics } from '@tbi/plugin-api';

/** Options of `openThingsBoardPlatform`; the host fills them from `platform: {type: thingsboard, …}`. */
export interface ThingsBoardPlatformOptions {
  /** ThingsBoard's MQTT transport. */
  host: string;
  /** Default 1883 (8883 with `tls`). */
  port?: number;
  /** Access token of the gateway device (a device with "Is gateway" on). */
  accessToken: string;
  /** MQTT 3.1.1 (4, default) or 5. */
  protocolVersion?: 4 | 5;
  clientId?: string;
  /** TLS: PEM contents of CA, client certificate and key. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean };
  /** Where the outbox lives. */
  dataDir: string;
  /** `outbox` (default): stored once committed locally. `strict`: stored only on ThingsBoard's PUBACK. */
  delivery?: 'outbox' | 'strict';
  /** Records (rows) the outbox holds before it refuses more (back-pressure); default 1 000 000. */
  outboxMaxRecords?: number;
  /** Age of the oldest waiting row past which the outbox refuses more; default 7 days. */
  outboxMaxAgeMs?: number;
  /** Devices without data for this long are disconnected (`v1/gateway/disconnect`); default 1 h, 0 = never. */
  deviceIdleMs?: number;
  /** Fraction of the server's rate limits to use (default 0.8, as the official client). */
  rateLimitFraction?: number;
  /** Backoff of reconnects (the plugin API's `Backoff`). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** How long `open` waits for the first connection before going on with the outbox (default 10 s). */
  connectTimeoutMs?: number;
  logger?: Logger;
  /** Where `tbi_thingsboard_*` metrics go (the host passes its Prometheus registry). */
  metrics?: Metrics;
  clock?: Clock;
}
