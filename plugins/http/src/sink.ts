import { setTimeout as sleep } from 'node:timers/promises';
import { DeliveryError, type Logger, type OutboundDownlink } from '@tbi/plugin-api';
import type { DownlinkConfig } from './config.js';
import { mimeType } from './downlink-response.js';
import type { PendingResponses } from './pending-responses.js';
import { renderTemplate } from './url-template.js';

/** What the outbound sender needs besides its settings; tests replace `fetch` and `sleep`. */
export interface OutboundDeps {
  logger: Logger;
  /** Aborted when the integration stops: waits and requests end at once. */
  signal: AbortSignal;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

/**
 * Sends downlinks as HTTP requests to the configured downlink URL. Network errors, timeouts,
 * 408, 429 and 5xx answers are retried `retries` times with exponential backoff (±20 % jitter,
 * `Retry-After` honoured up to `maxBackoffMs`); other 4xx answers fail at once. Every failure is a
 * `DeliveryError` (not retryable: the configured retries are the whole budget), which the host
 * records against the command.
 */
export function outboundSender(config: DownlinkConfig & { url: string }, deps: OutboundDeps): (downlink: OutboundDownlink) => Promise<void> {
  const doFetch = deps.fetch ?? globalThis.fetch;
  const wait = deps.sleep ?? ((ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal }));
  const random = deps.random ?? Math.random;

  return async (downlink) => {
    const url = renderTemplate(config.url, downlink, encodeURIComponent);
    const headers: Record<string, string> = { 'content-type': mimeType(downlink.encoded.contentType) };
    for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = renderTemplate(value, downlink);
    const hasBody = config.method !== 'GET';
    const context = { deviceName: downlink.deviceName, commandId: downlink.commandId, method: config.method, url: redact(url) };

    for (let attempt = 0; ; attempt++) {
      if (deps.signal.aborted) throw new DeliveryError('integration stopped before the downlink was sent', { context });
      let failure: { message: string; retryable: boolean; retryAfterMs?: number; cause?: unknown };
      try {
        const response = await doFetch(url, {
          method: config.method,
          headers,
          body: hasBody ? (downlink.payload as Uint8Array<ArrayBuffer>) : undefined,
          signal: AbortSignal.any([deps.signal, AbortSignal.timeout(config.timeoutMs)]),
        });
        // Drain the body so the connection can be reused.
        await response.arrayBuffer().catch(() => {});
        if (response.ok) {
          deps.logger.debug({ ...context, status: response.status, attempt }, 'downlink sent');
          return;
        }
        const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
        failure = { message: `downlink URL answered ${response.status}`, retryable, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
      } catch (error) {
        const timedOut = (error as Error)?.name === 'TimeoutError';
        failure = { message: timedOut ? `downlink URL did not answer within ${config.timeoutMs} ms` : `downlink request failed: ${(error as Error)?.message}`, retryable: true, cause: error };
      }
      if (!failure.retryable || attempt >= config.retries || deps.signal.aborted) {
        // Not retryable once our own retries are spent: `retries` in the config is the whole
        // budget, the host must not multiply it with retries of its own.
        throw new DeliveryError(failure.message, { retryable: false, cause: failure.cause, context: { ...context, attempts: attempt + 1 } });
      }
      const backoff = Math.min(config.maxBackoffMs, config.backoffMs * 2 ** attempt) * (0.8 + 0.4 * random());
      const delay = Math.min(config.maxBackoffMs, Math.max(backoff, failure.retryAfterMs ?? 0));
      deps.logger.warn({ ...context, attempt: attempt + 1, delayMs: Math.round(delay), error: failure.message }, 'downlink failed; retrying');
      await wait(delay, deps.signal).catch(() => {});
    }
  };
}

/**
 * Synchronous mode (no downlink URL): keeps the downlink until the device's next uplink, whose
 * response carries it. The promise settles with that outcome (see `PendingResponses.add`).
 */
export function responseQueueSender(pending: PendingResponses, logger: Logger): (downlink: OutboundDownlink) => Promise<void> {
  return (downlink) => {
    logger.debug({ deviceName: downlink.deviceName, commandId: downlink.commandId }, 'downlink waits for the next uplink of its device');
    return pending.add(downlink);
  };
}

function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Drops user info and the query (they may hold credentials) before a URL goes into logs/errors. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
