import { testConverter, type TestConverterReport } from '../src/index.js';

/** UTF-8 bytes of a string. */
export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * Evaluates `expression` inside a real isolate (as the body `return <expression>;` of an uplink
 * converter) and gives back what it returned, through JSON like every converter output.
 */
export async function evalInSandbox(expression: string, payload?: Uint8Array): Promise<unknown> {
  const report = await testConverter({ kind: 'uplink', source: `return (${expression});`, payload: payload ?? new Uint8Array(0), limits: { timeoutMs: 5000 } });
  if (report.error && report.error.kind !== 'INVALID_OUTPUT') throw new Error(`${report.error.kind}: ${report.error.message}`);
  return report.output;
}

/** Runs a converter body once; the report as `testConverter` gives it. */
export function runUplinkOnce(source: string, payload = '', limits?: { timeoutMs?: number; memoryMb?: number }): Promise<TestConverterReport> {
  return testConverter({ kind: 'uplink', source, payload: utf8(payload), limits: { timeoutMs: 2000, ...limits } });
}
