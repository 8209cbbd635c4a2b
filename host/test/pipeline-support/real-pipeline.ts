// The pipeline over the real parts: the embedded platform (SQLite) and the isolated-vm sandbox.
import path from 'node:path';
import { createConverterSandbox } from '@tbi/converter-sandbox';
import { openEmbeddedPlatform, type EmbeddedPlatform } from '@tbi/platform-embedded';
import type { PlatformClient } from '@tbi/plugin-api';
import { openPipeline, type Pipeline, type PipelineDeps } from '../../src/pipeline/index.js';
import { RecordingMetrics, recordingLogger, systemClock, tempDir } from './fakes.js';

/** A ThingsBoard-style uplink converter: JSON payload → one device; `fail` throws; `reply` answers an RPC. */
export const UPLINK = `
var d = decodeToJson(payload);
if (d.fail) throw new Error('cannot decode message of ' + d.device);
var result = { deviceName: d.device, deviceType: 'sensor', telemetry: d.ts ? { ts: d.ts, values: { t: d.t } } : { t: d.t } };
if (d.reply) result.rpcReply = { requestId: d.reply, response: d.response };
return result;`;

/** The same converter, fixed: messages with `fail` are decoded too. */
export const UPLINK_FIXED = UPLINK.replace("if (d.fail) throw new Error('cannot decode message of ' + d.device);", '');

/** A downlink converter: the RPC as JSON to topic `cmd/<device>`. */
export const DOWNLINK = `
return {
  contentType: 'JSON',
  data: JSON.stringify({ id: metadata.requestUUID, method: msg.method, params: msg.params }),
  metadata: { topic: 'cmd/' + metadata.deviceName }
};`;

export async function realPipeline(options: { wrap?: (platform: EmbeddedPlatform) => PlatformClient; deps?: Partial<PipelineDeps> } = {}) {
  const dataDir = await tempDir();
  const platform = await openEmbeddedPlatform({ dataDir: path.join(dataDir, 'platform'), busyTimeoutMs: 20 });
  const sandbox = createConverterSandbox({ poolSize: 1, defaultLimits: { timeoutMs: 2000 } });
  const metrics = new RecordingMetrics();
  const logger = recordingLogger();
  const pipeline: Pipeline = await openPipeline({
    platform: options.wrap ? options.wrap(platform) : platform,
    metrics,
    logger,
    clock: systemClock,
    dataDir,
    retry: { initialMs: 10, maxMs: 100 },
    ...options.deps,
  });
  return {
    dataDir,
    platform,
    sandbox,
    metrics,
    logger,
    pipeline,
    async close() {
      await pipeline.close();
      await platform.close();
      await sandbox.dispose();
    },
  };
}

/** A JSON payload as bytes. */
export function json(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}
