import type { Hono } from 'hono';
import type {
  ConverterLimits,
  ConverterSandbox,
  DownlinkConverter,
  Integration,
  Metadata,
  PendingDownlinks,
  UplinkConverter,
  UplinkService,
} from '@tbi/plugin-api';

// The shapes the host needs from the pipeline, sandbox and platform packages. The host is wired to
// the real implementations in `open-services.ts`; keeping the shapes here lets the lifecycle code
// read without those packages' internals.

/** What `pipeline.attach` takes for one integration instance. */
export interface AttachOptions {
  name: string;
  type: string;
  metadata: Metadata;
  uplink: UplinkConverter;
  downlink?: DownlinkConverter;
  downlinkMode: 'push' | 'pull' | 'none';
  maxInFlight?: number;
  debug?: { mode: 'off' | 'all' | 'failures' };
}

/** One instance's connection to the pipeline. `detach` rejects in-flight submits with ShutdownError. */
export interface IntegrationChannel {
  uplink: UplinkService;
  downlinks: PendingDownlinks;
  bind(integration: Integration): void;
  detach(): Promise<void>;
}

/** The uplink/downlink pipeline, shared by every integration. */
export interface PipelineService {
  attach(options: AttachOptions): IntegrationChannel;
  /** Dead letters and debug events, mounted under `/api` behind the token. */
  routes(): Hono;
  close(): Promise<void>;
}

/** The converter sandbox with its pool, owned by the host. */
export interface SandboxService extends ConverterSandbox {
  dispose(): Promise<void>;
}

/** Reads a converter's source from the config (inline or a file relative to the config). */
export type ConverterSourceLoader = (
  spec: { inline?: string; file?: string },
  kind: 'uplink' | 'downlink',
  baseDir: string,
) => Promise<{ source: string; origin: string }>;

/** Default limits for `createConverterSandbox`. */
export type SandboxLimits = Partial<ConverterLimits>;
