/** Settings of a replay guard. */
export interface ReplayGuardOptions {
  /** How long a signature is remembered after the time it is valid from (ms). */
  windowMs: number;
  /** Most signatures remembered; beyond it the oldest are forgotten first. */
  maxEntries: number;
}

/** Remembers accepted signatures so that an exact copy of a request is refused while it could still pass. */
export interface ReplayGuard {
  /**
   * Records `key` as seen until `validFromMs + windowMs`; false when it is already recorded
   * (a replay). `validFromMs` is the sender's timestamp when there is one, else now.
   */
  claim(key: string, validFromMs: number): boolean;
  /** Forgets `key` again, for a request that was not stored, so its sender may retry it. */
  release(key: string): void;
  /** Signatures remembered now. */
  readonly size: number;
}

/**
 * A bounded memory of signatures seen within the HMAC tolerance window. A signed request is
 * valid for the whole window, so without it a captured request could be stored again and again
 * until its timestamp goes stale. Expired entries are dropped as new ones arrive; when
 * `maxEntries` is reached the oldest are forgotten (their replays are then no longer caught),
 * so memory stays bounded under any load.
 *
 * @example
 * const guard = replayGuard({ windowMs: 300_000, maxEntries: 100_000 }, Date.now);
 * guard.claim(verdict.digest, verdict.timestampMs ?? Date.now()); // false: already seen
 */
export function replayGuard(options: ReplayGuardOptions, now: () => number): ReplayGuard {
  const seen = new Map<string, number>();
  // Keys in the order they were claimed, oldest first. Claims arrive in about expiry order
  // (timestamps only differ within the window), so pruning from the front finds the expired
  // ones without a scan. A queue rather than the Map's own order: iterating a Map from its start
  // walks over the slots of every entry deleted since it last grew, which made each claim O(n).
  let order: string[] = [];
  let head = 0;
  const prune = (t: number) => {
    while (head < order.length) {
      const oldest = order[head]!;
      const expiresAt = seen.get(oldest);
      if (expiresAt !== undefined && expiresAt > t && seen.size < options.maxEntries) break;
      // A key released (or claimed again later) has no entry of its own here to forget.
      if (expiresAt !== undefined && (expiresAt <= t || seen.size >= options.maxEntries)) seen.delete(oldest);
      head++;
    }
    if (head > 1024 && head * 2 > order.length) {
      order = order.slice(head);
      head = 0;
    }
  };
  return {
    claim(key, validFromMs) {
      const t = now();
      const known = seen.get(key);
      if (known !== undefined && known > t) return false;
      prune(t);
      seen.set(key, Math.max(validFromMs, t) + options.windowMs);
      order.push(key);
      return true;
    },
    release(key) {
      seen.delete(key);
    },
    get size() {
      return seen.size;
    },
  };
}
