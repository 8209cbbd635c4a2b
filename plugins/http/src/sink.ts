import { DeliveryError, type DownlinkRetry, type Logger, type OutboundDownlink } from '@tbi/plugin-api';
import type { DownlinkConfig } from './config.js';
import { mimeType } from './downlink-response.js';
import { renderTemplate } from './url-template.js';

/** What the outbound sender needs besides its settings; tests may replace `fetch`. */
export interface OutboundDeps {
  logger: Logger;
  /** Aborted when the integration stops: a request in progress ends at once. */
  signal: AbortSignal;
  fetch?: typeof globalThis.fetch;
}

/**
 * The host's retries of this instance's downlinks, from its settings: `retries` extra attempts,
 * `backoffMs` doubling up to `maxBackoffMs`, within 20 % below each step.
 */
export function outboundRetry(config: DownlinkConfig): DownlinkRetry {
  return { attempts: config.retries + 1, initialDelayMs: config.backoffMs, maxDelayMs: config.maxBackoffMs, jitter: 0.2 };
}

/**
 * Sends a downlink as one HTTP request to the configured downlink URL. Every failure is a
 * `DeliveryError` that says whether trying again may help: network errors, timeouts, 408, 429
 * and 5xx answers yes (with the `Retry-After` asked for), other 4xx answers no. The retries
 * themselves are the host's, per `outboundRetry` (one retry loop, not one here and one there).
 */
export function outboundSender(config: DownlinkConfig & { url: string }, deps: OutboundDeps): (downlink: OutboundDownlink) => Promise<void> {
  const doFetch = deps.fetch ?? globalThis.fetch;

  return async (downlink) => {
    const url = renderTemplate(config.url, downlink, encodeURIComponent);
    const headers: Record<string, string> = { 'content-type': mimeType(downlink.encoded.contentType) };
    for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = renderTemplate(value, downlink);
    const hasBody = config.method !== 'GET';
    const context = { deviceName: downlink.deviceName, commandId: downlink.commandId, method: config.method, url: redact(url) };
    if (deps.signal.aborted) throw new DeliveryError('integration stopped before the downlink was sent', { retryable: false, context });
    let response: Response;
    try {
      response = await doFetch(url, {
        method: config.method,
        headers,
        body: hasBody ? (downlink.payload as Uint8Array<ArrayBuffer>) : undefined,
        signal: AbortSignal.any([deps.signal, AbortSignal.timeout(config.timeoutMs)]),
      });
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError';
      const message = timedOut ? `downlink URL did not answer within ${config.timeoutMs} ms` : `downlink request failed: ${(error as Error)?.message}`;
      throw new DeliveryError(message, { cause: error, context, retryable: !deps.signal.aborted });
    }
    // Drain the body so the connection can be reused.
    await response.arrayBuffer().catch(() => {});
    if (response.ok) {
      deps.logger.debug({ ...context, status: response.status }, 'downlink sent');
      return;
    }
    const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
    const retryAfter = retryAfterMs(response.headers.get('retry-after'));
    throw new DeliveryError(`downlink URL answered ${response.status}`, {
      retryable,
      context: { ...context, status: response.status },
      ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
    });
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
