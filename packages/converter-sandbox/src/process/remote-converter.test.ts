import { describe, expect, it } from 'vitest';
import { createConverterSandbox } from '../index.js';

const enc = new TextEncoder();
const SOURCE = 'var d = decodeToJson(payload); return {deviceName: d.id, deviceType: metadata.topic, telemetry: {v: d.v}};';

describe('converters in a converter process', () => {
  it('convert large batches cut into parts, several in flight, message for message', async () => {
    const sandbox = createConverterSandbox({ processes: 1, poolSize: 1 });
    try {
      const converter = await sandbox.uplink('parts/uplink', SOURCE);
      const batch = (b: number) =>
        Array.from({ length: 1500 }, (_, i) => ({
          payload: enc.encode(JSON.stringify({ id: `D${b}-${i}`, v: i })),
          metadata: { topic: `t${i % 7}` },
          receivedAt: 5,
        }));
      // Parts of one batch and of concurrent batches reach the process back to back; each must
      // arrive whole (the payload buffer a part arrived in is copied, never handed over).
      const results = await Promise.all(
        [0, 1, 2, 3].map(async (b) =>
          (await converter.run(batch(b))).map((r) => (r.ok ? `${r.records[0]?.deviceName}/${r.records[0]?.deviceType}` : r.error.message)),
        ),
      );
      results.forEach((names, b) => {
        expect(names).toEqual(batch(b).map((_, i) => `D${b}-${i}/t${i % 7}`));
      });
      expect(sandbox.stats().restarts).toBe(0);
    } finally {
      await sandbox.dispose();
    }
  });

  it('keep the messages before a timeout, and retry the rest from what the process received', async () => {
    const sandbox = createConverterSandbox({ processes: 1, poolSize: 1, defaultLimits: { timeoutMs: 200 } });
    try {
      const converter = await sandbox.uplink(
        'retry/uplink',
        `var d = decodeToJson(payload); if (d.loop) { while (true) {} } ${SOURCE.slice(SOURCE.indexOf('return'))}`,
      );
      const inputs = Array.from({ length: 200 }, (_, i) => ({
        payload: enc.encode(JSON.stringify({ id: `D${i}`, v: i, loop: i === 100 })),
        metadata: { topic: 't' },
      }));
      const results = await converter.run(inputs);
      expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.error.kind)).toEqual(['TIMEOUT']);
      expect(results[199]?.ok && results[199].records[0]?.deviceName).toBe('D199');
    } finally {
      await sandbox.dispose();
    }
  });
});
