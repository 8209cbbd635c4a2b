import { backoffDelay } from '@tbi/plugin-api';

/** When the host restarts an integration that failed. */
export interface RestartPolicy {
  /** Cap of the first delay; the cap doubles per attempt (full jitter: the delay is a draw below it). */
  initialMs: number;
  /** Largest cap. */
  maxMs: number;
  /** After running this long, the next failure counts as the first again. */
  resetAfterMs: number;
  /** A running integration whose plugin reports `down` this long without a break has failed. */
  downTimeoutMs: number;
  /** How often a running integration's health is looked at for `downTimeoutMs`. */
  checkIntervalMs: number;
  /** Random source in [0, 1); tests pin it. */
  random?: () => number;
}

/**
 * The host's defaults: first retry within 1 s, then 2, 4, … up to a minute between attempts; an
 * integration is "up again" after 2 minutes; a plugin `down` for 5 minutes is restarted (plugins
 * that reconnect on their own, such as MQTT, get that long to do it themselves).
 */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialMs: 1000,
  maxMs: 60_000,
  resetAfterMs: 120_000,
  downTimeoutMs: 300_000,
  checkIntervalMs: 1000,
};

/** A restart that is waiting for its time. */
export interface PendingRestart {
  attempt: number;
  /** Epoch ms of the restart. */
  at: number;
  /** Why the integration failed, in one sentence. */
  cause: string;
}

/**
 * The restart timer of one integration: the contract's `backoffDelay` (exponential cap, full
 * jitter), an attempt count that starts over once the integration stayed up for
 * `resetAfterMs`, and at most one pending restart.
 */
export class RestartSchedule {
  #attempt = 0;
  #upSince: number | undefined;
  #pending: (PendingRestart & { timer: NodeJS.Timeout }) | undefined;
  /** The restart under way (fired, not yet up or failed again). */
  #current: { attempt: number; cause: string } | undefined;

  constructor(
    private readonly policy: RestartPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** The integration runs from now on. */
  markUp(): void {
    this.#upSince = this.now();
    this.#current = undefined;
  }

  /** Plans the next restart after a failure; replaces one already planned. */
  schedule(cause: string, restart: () => void): PendingRestart {
    this.cancel();
    const now = this.now();
    if (this.#upSince !== undefined && now - this.#upSince >= this.policy.resetAfterMs) this.#attempt = 0;
    this.#upSince = undefined;
    this.#current = undefined;
    this.#attempt += 1;
    const { initialMs, maxMs, random } = this.policy;
    const delayMs = backoffDelay(this.#attempt, { initialDelayMs: initialMs, maxDelayMs: maxMs, ...(random ? { random } : {}) });
    const timer = setTimeout(() => {
      this.#current = { attempt: this.#pending!.attempt, cause };
      this.#pending = undefined;
      restart();
    }, delayMs);
    timer.unref();
    this.#pending = { attempt: this.#attempt, at: now + delayMs, cause, timer };
    return this.pending()!;
  }

  /** Drops the planned restart, if any (the user stopped or started the integration). */
  cancel(): void {
    if (this.#pending) clearTimeout(this.#pending.timer);
    this.#pending = undefined;
    this.#current = undefined;
  }

  /** Forgets the failures so far (the user started it by hand). */
  reset(): void {
    this.cancel();
    this.#attempt = 0;
  }

  pending(): PendingRestart | undefined {
    if (!this.#pending) return undefined;
    const { attempt, at, cause } = this.#pending;
    return { attempt, at, cause };
  }

  /** "restarting in 4 s (attempt 3): <cause>", or undefined when nothing is planned. */
  describe(): string | undefined {
    const p = this.#pending;
    if (!p) return undefined;
    const seconds = Math.max(0, Math.ceil((p.at - this.now()) / 1000));
    return `restarting in ${seconds} s (attempt ${p.attempt}): ${p.cause}`;
  }

  /** "restart attempt 3 (after: <cause>)" while a restart is under way. */
  describeCurrent(): string | undefined {
    const c = this.#current;
    return c ? `restart attempt ${c.attempt} (after: ${c.cause})` : undefined;
  }
}
