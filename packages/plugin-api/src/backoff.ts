import { sleep } from './sleep.js';

/** How long to wait between attempts: exponential, capped, jittered. */
export interface BackoffOptions {
  /** Cap of the first delay, in ms (default 100). */
  initialDelayMs?: number;
  /** Largest cap, in ms (default 30 000); the cap doubles per attempt up to this. */
  maxDelayMs?: number;
  /**
   * Random part of each delay: 1 (default) is "full jitter", a uniform draw in `[0, cap]`;
   * 0.2 draws in `[0.8 × cap, cap]`; 0 waits exactly the cap.
   */
  jitter?: number;
  /** Random source in [0, 1); tests pin it. */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (1 = the first retry). Full jitter spreads the retries of
 * many integrations and hosts, so a recovering broker or platform is not hit by all of them at
 * once (AWS Architecture Blog, "Exponential Backoff And Jitter").
 *
 * @example
 * backoffDelay(3, { initialDelayMs: 100, maxDelayMs: 5000 }) // somewhere in [0, 400]
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 30_000;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 1));
  const cap = Math.min(max, initial * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  const draw = (options.random ?? Math.random)();
  return Math.round(cap * (1 - jitter) + cap * jitter * draw);
}

/**
 * A backoff schedule for loops that are not one promise, such as a reconnect handler: ask for
 * the next delay (or wait it), and `reset` once the connection is good again.
 *
 * @example
 * const backoff = new Backoff({ initialDelayMs: 500, maxDelayMs: 30_000 });
 * client.on('close', () => setTimeout(connect, backoff.next()));
 * client.on('connect', () => backoff.reset());
 */
export class Backoff {
  #attempt = 0;

  constructor(private readonly options: BackoffOptions = {}) {}

  /** Retries since the last `reset` (0 before the first `next`). */
  get attempt(): number {
    return this.#attempt;
  }

  /** Counts one more retry and returns how long to wait before it, in ms. */
  next(): number {
    this.#attempt += 1;
    return backoffDelay(this.#attempt, this.options);
  }

  /** Waits the next delay; rejects with `ShutdownError` when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    return sleep(this.next(), signal);
  }

  /** Starts again from the first delay (after a success). */
  reset(): void {
    this.#attempt = 0;
  }
}
