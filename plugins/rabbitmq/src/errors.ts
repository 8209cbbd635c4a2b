import { PluginError, isTbiError } from '@tbi/plugin-api';

/** Why a connection to RabbitMQ could not be made. */
export type ConnectFailureKind = 'AUTH' | 'VHOST' | 'NETWORK' | 'TLS' | 'OTHER';

/**
 * Connecting to RabbitMQ failed. The message names the broker, vhost and user (never the
 * password); `kind` tells a refused login or vhost (a configuration to fix, not retried at start)
 * from a broker that is unreachable (retried in the background).
 */
export class RabbitmqConnectError extends PluginError {
  readonly kind: ConnectFailureKind;
  constructor(
    kind: ConnectFailureKind,
    message: string,
    options: { cause?: unknown; context: { host: string; port: number; vhost: string; username: string } },
  ) {
    super(`RABBITMQ_${kind === 'AUTH' || kind === 'VHOST' ? 'ACCESS_REFUSED' : 'CONNECT_FAILED'}`, message, options);
    this.kind = kind;
  }
}

/** True for a `RabbitmqConnectError` (by value, so copies of this package match). */
export function isRabbitmqConnectError(error: unknown): error is RabbitmqConnectError {
  return isTbiError(error) && (error.code === 'RABBITMQ_ACCESS_REFUSED' || error.code === 'RABBITMQ_CONNECT_FAILED') && 'kind' in error;
}

/** A refused login or vhost: retrying with the same settings cannot help. */
export function isAccessRefused(error: unknown): boolean {
  return isRabbitmqConnectError(error) && (error.kind === 'AUTH' || error.kind === 'VHOST');
}
