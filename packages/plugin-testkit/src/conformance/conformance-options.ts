import type { PluginDefinition } from '@tbi/plugin-api';
import type { TestIntegration, TestIntegrationOptions } from '../test-integration.js';

/** What a connector tells the conformance suite about itself and its source. */
export interface ConformanceOptions<Config = unknown> {
  plugin: PluginDefinition<Config>;
  /**
   * The integration's `config` block for one case. `run` is unique per case: use it in topic
   * names, routing keys or consumer groups so that cases never see each other's messages.
   */
  config(run: string): unknown | Promise<unknown>;
  /**
   * Puts messages where the integration reads them (publish to the broker, POST the webhook).
   * Resolves once they were handed over, not when they were stored. HTTP, whose acknowledgement is
   * the answer to the sender, reports answers through `acknowledged`.
   */
  produce(kit: TestIntegration, payloads: string[], run: string): Promise<void>;
  /**
   * For sources where the connector's acknowledgement is visible to the producer (HTTP 200):
   * how many messages of `run` have been acknowledged so far. Without it, the suite proves what was
   * (not) acknowledged by restarting and watching what the broker delivers again.
   */
  acknowledged?(run: string): number;
  /** Whether the source delivers an unacknowledged message again after a restart (brokers: yes). */
  redelivers: boolean;
  /** Runs before the integration starts for a case (create a topic…). */
  setup?(run: string): Promise<void>;
  /** Resolves once a started integration really receives (subscription or assignment done); default: health `up`. */
  ready?(kit: TestIntegration, run: string, timeoutMs: number): Promise<void>;
  /** Back-pressure: how many messages beyond `maxInFlight` may still be submitted once paused; `false` for a source that cannot pause. */
  pause: { overshoot: number } | false;
  /** Downlinks: what steers them to the receiver, and a receiver at the source's side. */
  downlink?: {
    metadata(run: string): Record<string, string>;
    /** Starts receiving downlinks for `run`'s device (`dev-<run>`); the integration is already running. */
    listen(run: string, kit: TestIntegration): Promise<{ received(): string[]; close(): Promise<void> }>;
  };
  /** Stops and starts the broker the integration talks to (a private instance). */
  outage?: { stop(): Promise<void>; start(): Promise<void> };
  /** Upper bound of `stop()` (default 10 s). */
  stopWithinMs?: number;
  /** Extra options for every `startTestIntegration` of the suite. */
  kit?: TestIntegrationOptions;
  /** Time a case may take (default 60 s). */
  timeoutMs?: number;
}
