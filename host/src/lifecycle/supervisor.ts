import type { Logger } from '@tbi/plugin-api';
import type { IntegrationInstance, InstanceStatus } from './integration-instance.js';

/** The platform's own health, when it reports one (`PlatformClient.health`). */
export type PlatformHealth = { status: 'up' | 'down'; detail?: string };

/** Readiness of the host: the platform is reachable and every integration that should run is up. */
export interface Readiness {
  ready: boolean;
  /** Present when the platform reports its health. */
  platform?: PlatformHealth;
  integrations: InstanceStatus[];
}

/**
 * Owns the integration instances: starts them independently (one failing does not stop the
 * others), stops them all on shutdown, and answers status and readiness.
 */
export class Supervisor {
  private readonly byName = new Map<string, IntegrationInstance>();
  shuttingDown = false;

  constructor(
    instances: readonly IntegrationInstance[],
    private readonly logger: Logger,
    private readonly platformHealth: () => PlatformHealth | undefined = () => undefined,
  ) {
    for (const instance of instances) this.byName.set(instance.name, instance);
  }

  get(name: string): IntegrationInstance | undefined {
    return this.byName.get(name);
  }

  all(): IntegrationInstance[] {
    return [...this.byName.values()];
  }

  ofType(type: string): IntegrationInstance[] {
    return this.all().filter((i) => i.type === type);
  }

  /** Starts every enabled instance, concurrently, and waits until each has started or failed. */
  async startEnabled(): Promise<void> {
    const enabled = this.all().filter((i) => i.desired === 'running');
    const disabled = this.all().filter((i) => i.desired !== 'running');
    for (const i of disabled) this.logger.info({ integration: i.name, type: i.type }, 'integration disabled (enabled: false)');
    const slow = setInterval(() => {
      const pending = enabled.filter((i) => i.status().state === 'starting').map((i) => i.name);
      if (pending.length > 0) this.logger.info({ integrations: pending }, 'still starting');
    }, 10_000);
    try {
      await Promise.all(enabled.map((i) => i.start()));
    } finally {
      clearInterval(slow);
    }
  }

  /** Stops every instance, concurrently; in-flight work is released by each. */
  async stopAll(): Promise<void> {
    await Promise.all(this.all().map((i) => i.stop({ keepDesired: true })));
  }

  readiness(): Readiness {
    const integrations = this.all().map((i) => i.status());
    const platform = this.platformHealth();
    const ready = !this.shuttingDown && platform?.status !== 'down' && integrations.every((s) => s.desired !== 'running' || s.health.status === 'up');
    return { ready, ...(platform ? { platform } : {}), integrations };
  }
}
