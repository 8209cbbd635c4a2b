const BRAND = Symbol.for('tbi.error');

/** Fields every tbi error carries besides its message. */
export interface TbiErrorOptions {
  cause?: unknown;
  /** Where it happened: integration, file, path, message index… Never secrets. */
  context?: Record<string, unknown>;
}

/**
 * Base of every error tbi throws on purpose. `code` is stable and documented; `context` says
 * where it happened. Recognised by value (`isTbiError`), so errors from two copies of this
 * package still match.
 */
export class TbiError extends Error {
  readonly [BRAND] = true;
  readonly code: string;
  readonly context: Record<string, unknown>;

  constructor(code: string, message: string, options: TbiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = options.context ?? {};
  }
}

/** True for any `TbiError`, even one made by another copy of this package. */
export function isTbiError(error: unknown): error is TbiError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * A configuration value is wrong. Names the file, the path inside it and what was expected.
 *
 * @example
 * new ConfigError({ file: 'tbi.yaml', path: 'integrations[2].config.port', expected: 'an integer from 1 to 65535', received: '"abc"' })
 * // tbi.yaml: integrations[2].config.port: expected an integer from 1 to 65535, received "abc"
 */
export class ConfigError extends TbiError {
  readonly file: string | undefined;
  readonly path: string;
  readonly expected: string;

  constructor(details: { file?: string; path: string; expected: string; received?: string; cause?: unknown }) {
    const where = [details.file, details.path || '(root)'].filter(Boolean).join(': ');
    const received = details.received === undefined ? '' : `, received ${details.received}`;
    super('CONFIG_INVALID', `${where}: expected ${details.expected}${received}`, {
      cause: details.cause,
      context: { file: details.file, path: details.path },
    });
    this.file = details.file;
    this.path = details.path;
    this.expected = details.expected;
  }
}

/** Why a converter call failed. */
export type ConverterFailureKind =
  | 'COMPILE'
  | 'THREW'
  | 'TIMEOUT'
  | 'MEMORY'
  | 'INVALID_OUTPUT'
  /** Refused by the connector before conversion (since 1.1), e.g. larger than its size limit. */
  | 'REJECTED';

/**
 * A converter failed on one message (or could not be compiled). `path` points into the
 * converter's output when the output was invalid, e.g. `[1].telemetry.ts`.
 */
export class ConverterError extends TbiError {
  readonly kind: ConverterFailureKind;
  readonly path: string | undefined;

  constructor(kind: ConverterFailureKind, message: string, options: TbiErrorOptions & { path?: string } = {}) {
    super(`CONVERTER_${kind}`, message, { ...options, context: { ...options.context, path: options.path } });
    this.kind = kind;
    this.path = options.path;
  }
}

/** Sending to a broker, the platform or a URL failed. `retryable` says whether trying again may help. */
export class DeliveryError extends TbiError {
  readonly retryable: boolean;
  /** How long the other side asked to wait before the next attempt (a `Retry-After`); `retry` honours it. Since 1.2. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: TbiErrorOptions & { retryable?: boolean; retryAfterMs?: number } = {}) {
    super('DELIVERY_FAILED', message, options);
    this.retryable = options.retryable ?? true;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A plugin could not be loaded, checked or started; wraps the cause with the plugin's name. */
export class PluginError extends TbiError {
  constructor(code: string, message: string, options: TbiErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The host is stopping: work in flight is released, not acknowledged. */
export class ShutdownError extends TbiError {
  constructor(message = 'the host is shutting down') {
    super('SHUTTING_DOWN', message);
  }
}
