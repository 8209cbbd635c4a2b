import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLUGIN_API_VERSION } from '@tbi/plugin-api';
import { EXIT_NOT_FOUND, EXIT_UNREACHABLE } from '../src/cli/host-client.js';
import { createProgram } from '../src/cli/main.js';
import { EXIT_INTERNAL_ERROR, EXIT_USER_ERROR } from '../src/cli/report-error.js';
import { EXIT_NOT_READY } from '../src/cli/status-command.js';

// Facts the docs state that the source decides: these fail when one side changes alone.
const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFile(path.join(ROOT, file), 'utf8');

describe('the docs say what the source says', () => {
  it("host/README.md names this host's plugin API version wherever it names one", async () => {
    const readme = await read('host/README.md');
    // "plugin API 1.1.0" and "plugin API of this host: 1.1.0", not ranges such as "^2.0.0".
    const versions = [...readme.matchAll(/plugin API (?:of this host: )?(\d+\.\d+\.\d+)/g)].map((m) => m[1]);
    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions)).toEqual(new Set([PLUGIN_API_VERSION]));
  });

  it('host/README.md has a section for every command and a row for every exit code', async () => {
    const readme = await read('host/README.md');
    for (const command of createProgram().commands.map((c) => c.name())) {
      expect(readme, command).toMatch(new RegExp(`^### \`tbi ${command}[ \`]`, 'm'));
    }
    const table = readme.slice(readme.indexOf('### Exit codes'), readme.indexOf('## Configuration'));
    for (const code of [0, EXIT_USER_ERROR, EXIT_UNREACHABLE, EXIT_NOT_FOUND, EXIT_NOT_READY, EXIT_INTERNAL_ERROR]) {
      expect(table, `exit code ${code}`).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
    }
  });

  it('docs/architecture.md does not list a package of the workspace as not built', async () => {
    const doc = await read('docs/architecture.md');
    const notBuilt = doc.slice(doc.indexOf('## Not built yet'));
    expect(notBuilt).toContain('## Not built yet');
    for (const folder of ['packages', 'plugins']) {
      for (const dir of await readdir(path.join(ROOT, folder))) {
        const name = (JSON.parse(await read(`${folder}/${dir}/package.json`).catch(() => '{}')) as { name?: string }).name;
        if (name) expect(notBuilt, name).not.toContain(name);
      }
    }
  });
});
