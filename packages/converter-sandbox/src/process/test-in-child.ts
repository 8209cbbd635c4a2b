import { resolveLimits } from '../limits.js';
import type { TestConverterOptions, TestConverterReport } from '../test-converter.js';
import { ConverterProcess, isConverterProcessCrash } from './converter-process.js';
import { crashFailure } from './crash-failure.js';
import { DEFAULT_PROCESS_SETTINGS } from './process-defaults.js';

/**
 * `testConverter` in a converter process made for this one run and killed after it. A
 * converter that ends the process (V8 abort, a hang past the limit, memory) is reported as its
 * failure.
 */
export async function testConverterInChild(options: TestConverterOptions): Promise<TestConverterReport> {
  resolveLimits(undefined, options.limits);
  const started = performance.now();
  const proc = new ConverterProcess({ ...DEFAULT_PROCESS_SETTINGS, poolSize: 1 });
  try {
    const reply = await proc.request({ op: 'test', options });
    return reply.report as TestConverterReport;
  } catch (error) {
    if (!isConverterProcessCrash(error)) throw error;
    return { ok: false, error: crashFailure(error.info, 'the host was not affected'), logs: [], durationMs: performance.now() - started };
  } finally {
    proc.kill({ cause: 'disposed', message: 'test finished' });
  }
}
