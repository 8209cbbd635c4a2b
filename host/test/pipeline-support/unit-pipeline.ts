// Opens a pipeline over the in-memory platform, for unit tests of the pipeline modules.
import { openPipeline, type Pipeline, type PipelineDeps } from '../../src/pipeline/index.js';
import { MemoryPlatform, RecordingMetrics, recordingLogger, systemClock, tempDir } from './fakes.js';

export async function unitPipeline(overrides: Partial<PipelineDeps> = {}) {
  const platform = new MemoryPlatform();
  const metrics = new RecordingMetrics();
  const logger = recordingLogger();
  const dataDir = await tempDir();
  const pipeline: Pipeline = await openPipeline({
    platform,
    metrics,
    logger,
    clock: systemClock,
    dataDir,
    retry: { initialMs: 5, maxMs: 20 },
    downlink: { initialMs: 5, maxMs: 10 },
    ...overrides,
  });
  return { pipeline, platform, metrics, logger, dataDir };
}
