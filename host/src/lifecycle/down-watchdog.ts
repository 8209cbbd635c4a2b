import type { IntegrationHealth } from '@tbi/plugin-api';

/**
 * Watches a running plugin's own health: once it has said `down` for `timeoutMs` without a
 * break, `onDown` is called once with the reason. A plugin that reconnects by itself (and says
 * `degraded` or `up` meanwhile) is left alone.
 */
export class DownWatchdog {
  #timer: NodeJS.Timeout | undefined;
  #downSince: number | undefined;

  constructor(private readonly options: { timeoutMs: number; intervalMs: number; now?: () => number }) {}

  start(health: () => IntegrationHealth, onDown: (cause: string) => void): void {
    this.stop();
    const now = this.options.now ?? Date.now;
    this.#timer = setInterval(() => {
      const own = health();
      if (own.status !== 'down') {
        this.#downSince = undefined;
        return;
      }
      const t = now();
      this.#downSince ??= t;
      if (t - this.#downSince < this.options.timeoutMs) return;
      const seconds = Math.round((t - this.#downSince) / 1000);
      this.stop();
      onDown(`reported down for ${seconds} s${own.detail ? `: ${own.detail}` : ''}`);
    }, this.options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#downSince = undefined;
  }
}
