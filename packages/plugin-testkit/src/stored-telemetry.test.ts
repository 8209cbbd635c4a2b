import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEmbeddedPlatform } from '@tbi/platform-embedded';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from './memory-logger.js';
import { storedTelemetry } from './stored-telemetry.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('storedTelemetry', () => {
  it('reads the values of one key by device prefix or name from a real platform database, and nothing before it exists', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tbi-kit-stored-'));
    dirs.push(dataDir);
    expect(storedTelemetry(dataDir, 'n', { prefix: 'dev-' })).toEqual([]);
    const platform = await openEmbeddedPlatform({ dataDir, clock: { now: () => Date.now() }, logger: memoryLogger() });
    const record = (device: string, ts: number, values: Record<string, number>) => ({
      entityType: 'DEVICE' as const,
      deviceName: device,
      deviceType: 'sensor',
      attributes: {},
      telemetry: [{ ts, values }],
    });
    await platform.ingest([
      { integration: 'kit', records: [record('dev-1', 1000, { n: 1, other: 9 }), record('dev-2', 1000, { n: 2.5 }), record('else', 1000, { n: 3 })] },
    ]);
    await platform.close();
    expect(storedTelemetry(dataDir, 'n', { prefix: 'dev-' }).sort()).toEqual([1, 2.5]);
    expect(storedTelemetry(dataDir, 'n', { name: 'else' })).toEqual([3]);
    expect(storedTelemetry(dataDir, 'missing', { prefix: '' })).toEqual([]);
  });
});
