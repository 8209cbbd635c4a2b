import type { Counter, Metrics } from '@tbi/plugin-api';
import type { InstanceState, InstanceStatus } from '../lifecycle/integration-instance.js';

const STATES: readonly InstanceState[] = ['stopped', 'starting', 'running', 'stopping', 'failed'];

/**
 * The host's metrics about its integrations: `tbi_integration_up` (1 when healthy),
 * `tbi_integration_state` (1 for the current state, 0 for the others, so a dashboard can count
 * failed integrations) and `tbi_integration_restarts_total` (restarts the host made after a
 * failure).
 */
export function integrationMetrics(metrics: Metrics) {
  const up = metrics.gauge('tbi_integration_up', '1 when the integration is up, else 0.', ['integration', 'type']);
  const state = metrics.gauge(
    'tbi_integration_state',
    '1 for the state the integration is in (stopped, starting, running, stopping, failed), 0 for the others.',
    ['integration', 'type', 'state'],
  );
  const restarts = metrics.counter('tbi_integration_restarts_total', 'Restarts of the integration by the host after it failed.', ['integration', 'type']);
  return {
    /** The restart counter of one integration, shown as 0 from the start. */
    restartsOf(integration: string, type: string): Counter {
      restarts.inc({ integration, type }, 0);
      return { inc: (_labels, value = 1) => restarts.inc({ integration, type }, value) };
    },
    /** Sets the gauges from the statuses (before each scrape). */
    refresh(statuses: readonly InstanceStatus[]): void {
      for (const s of statuses) {
        up.set({ integration: s.name, type: s.type }, s.health.status === 'up' ? 1 : 0);
        for (const each of STATES) state.set({ integration: s.name, type: s.type, state: each }, each === s.state ? 1 : 0);
      }
    },
  };
}
