import type { ConverterLimits, ConverterSandbox, IntegrationHealth } from '@tbi/plugin-api';

// The pipeline's own types are used as they are; the sandbox is reduced to what the host uses.
export type { AttachOptions, IntegrationChannel, Pipeline as PipelineService } from '../pipeline/index.js';

/** The converter sandbox with its pool, owned by the host. */
export interface SandboxService extends ConverterSandbox {
  dispose(): Promise<void>;
  /** `degraded` for a while after a message of the integration ended its converter process. */
  integrationHealth?(integration: string): IntegrationHealth | undefined;
  /** `killedBusy`: converter processes killed in the middle of a conversion by `dispose()`. */
  stats?(): { killedBusy: number };
}

/** Reads a converter's source from the config (inline or a file relative to the config). */
export type ConverterSourceLoader = (
  spec: { inline?: string; file?: string },
  kind: 'uplink' | 'downlink',
  baseDir: string,
) => Promise<{ source: string; origin: string }>;

/** Default limits for `createConverterSandbox`. */
export type SandboxLimits = Partial<ConverterLimits>;
