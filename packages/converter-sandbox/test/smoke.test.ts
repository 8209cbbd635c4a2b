import { describe, expect, it } from 'vitest';
import { createConverterSandbox, testConverter } from '../src/index.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('smoke', () => {
  it('runs', async () => {
    const sandbox = createConverterSandbox();
    const c = await sandbox.uplink('x', 'var d = decodeToJson(payload); console.log("hi", d); return {deviceName: d.serial, deviceType: "sensor", telemetry: {t: d.t}};');
    const r = await c.run([{ payload: enc('{"serial":"A","t":1}'), metadata: {}, receivedAt: 5 }, { payload: enc('nope'), metadata: {} }]);
    console.log(JSON.stringify(r, null, 1));
    const t = await testConverter({ kind: 'uplink', source: 'while(true){}', limits: { timeoutMs: 50 } });
    console.log(t);
    const t2 = await testConverter({ kind: 'uplink', source: 'return {', limits: { timeoutMs: 50 } });
    console.log(t2);
    const t3 = await testConverter({ kind: 'uplink', source: 'var a = []; while(true) a.push("xxxxxxxxxxxxxxx" + a.length);', limits: { timeoutMs: 5000, memoryMb: 16 } });
    console.log(t3);
    await sandbox.dispose();
    expect(r[0]!.ok).toBe(true);
  });
});
