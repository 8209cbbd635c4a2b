import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTbi } from './helpers/run-tbi.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');

describe('tbi convert and tbi test-converters', () => {
  it('runs a converter on a payload file and prints the records', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tbi-convert-'));
    await writeFile(path.join(dir, 'reading.json'), '{"deviceName":"greenhouse-2","temperature":18}');
    const result = await runTbi(
      ['convert', '--converter', path.join(EXAMPLES, 'converters/http-uplink.js'), '--payload', 'reading.json', '--metadata', 'site=north'],
      { cwd: dir },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; records: Array<{ deviceName: string; attributes: Record<string, string> }> };
    expect(report.ok).toBe(true);
    expect(report.records[0]).toMatchObject({ deviceName: 'greenhouse-2', attributes: { site: 'north' } });

    await writeFile(path.join(dir, 'bad.json'), 'not json');
    const failed = await runTbi(['convert', '--converter', path.join(EXAMPLES, 'converters/http-uplink.js'), '--payload', 'bad.json'], { cwd: dir });
    expect(failed.code).toBe(1);
    expect((JSON.parse(failed.stdout) as { ok: boolean }).ok).toBe(false);
  });

  it('passes the example converter cases and fails a case that does not match', async () => {
    const good = await runTbi(['test-converters', 'converters'], { cwd: EXAMPLES });
    expect(good.stdout).toContain('3 passed, 0 failed');
    expect(good.code).toBe(0);

    const dir = await mkdtemp(path.join(tmpdir(), 'tbi-cases-'));
    await writeFile(path.join(dir, 'up.js'), "return { deviceName: 'a', deviceType: 't', telemetry: { v: 1 } };");
    await writeFile(
      path.join(dir, 'up.cases.json'),
      JSON.stringify([{ name: 'wrong value', payload: '', expected: [{ deviceName: 'a', deviceType: 't', telemetry: { v: 2 } }] }]),
    );
    const bad = await runTbi(['test-converters'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('FAIL up.cases.json > wrong value');
    expect(bad.stdout).toContain('0 passed, 1 failed');
  });
});
