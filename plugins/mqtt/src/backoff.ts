/** Exponential backoff settings (see `config.reconnect`). */
export interface Backoff {
  initialDelayMs: number;
  maxDelayMs: number;
  /** 0.2 = each delay is randomised by ±20 %. */
  jitter: number;
}

/**
 * The wait before reconnection attempt `attempt` (1 = the first after a loss): doubles from
 * `initialDelayMs` up to `maxDelayMs`, randomised so a fleet of hosts does not reconnect in step.
 */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const base = Math.min(b.maxDelayMs, b.initialDelayMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const spread = base * b.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base + spread));
}
