import { TbiError, type TbiErrorOptions } from '@tbi/plugin-api';

/**
 * Codes of the errors the embedded platform throws on purpose (besides `DeliveryError` for a
 * store that cannot write, and `ShutdownError` after `close`).
 */
export type PlatformErrorCode =
  /** No device or asset with that name. */
  | 'DEVICE_NOT_FOUND'
  /** An argument (query parameter, body, scope, time range…) is not valid. */
  | 'INVALID_ARGUMENT'
  /** A two-way RPC got no reply before its timeout. */
  | 'RPC_TIMEOUT'
  /** The host reported that the RPC could not be delivered to the device. */
  | 'RPC_DELIVERY_FAILED'
  /** The database was written by a newer version of this package. */
  | 'SCHEMA_TOO_NEW';

/**
 * An error of the embedded platform with a stable `code`; the REST API maps it to a status.
 *
 * @example
 * if (isTbiError(e) && e.code === 'RPC_TIMEOUT') retryLater();
 */
export class PlatformError extends TbiError {
  declare readonly code: PlatformErrorCode;
  constructor(code: PlatformErrorCode, message: string, options: TbiErrorOptions = {}) {
    super(code, message, options);
  }
}

export function deviceNotFound(name: string): PlatformError {
  return new PlatformError('DEVICE_NOT_FOUND', `no device named ${JSON.stringify(name)}`, { context: { deviceName: name } });
}

export function invalidArgument(message: string, context: Record<string, unknown> = {}): PlatformError {
  return new PlatformError('INVALID_ARGUMENT', message, { context });
}
