import type { BackoffOptions, Clock, Logger, PlatformClient } from '@tbi/plugin-api';
import type { DeadLetterStore } from '../dead-letters/dead-letter-store.js';
import type { DownlinkOptions } from './downlink-path.js';
import type { PipelineMetrics } from './pipeline-metrics.js';
import type { BatchOptions } from './uplink-engine.js';

/** What every channel of one pipeline shares. */
export interface PipelineShared {
  platform: PlatformClient;
  logger: Logger;
  clock: Clock;
  metrics: PipelineMetrics;
  deadLetters: DeadLetterStore;
  retry: BackoffOptions;
  batch: BatchOptions;
  downlink: DownlinkOptions;
}
