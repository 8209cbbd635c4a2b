import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLUGIN_API_VERSION } from '../packages/plugin-api/src/version.js';
import { ROOT, runScript } from './test/run-script.js';

const hostVersion = (JSON.parse(readFileSync(path.join(ROOT, 'host', 'package.json'), 'utf8')) as { version: string }).version;

describe("./scripts/tbi, the clone's CLI", () => {
  it("runs the built host's tbi on a Node 22+ even when PATH has only the machine's programs", async () => {
    // PATH without .tools/: the wrapper finds the Node that bootstrap installed (or the machine's).
    const result = await runScript('scripts/tbi', ['--version'], { PATH: '/usr/local/bin:/usr/bin:/bin' });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(`${hostVersion} (plugin API ${PLUGIN_API_VERSION})`);
    expect(result.code).toBe(0);
  });

  it('passes its arguments to tbi', async () => {
    const result = await runScript('scripts/tbi', ['init', '--help']);
    expect(result.stdout).toContain('Usage: tbi init');
    expect(result.code).toBe(0);
  });
});
