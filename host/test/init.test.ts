import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packedProject } from './helpers/packed-project.js';
import { runTbi } from './helpers/run-tbi.js';

describe('tbi init in a project with a plugin installed from its tarball', () => {
  let project: string;

  beforeAll(async () => {
    project = await packedProject(['echo', 'future']);
  });

  it('writes a tbi.yaml with one integration per usable plugin, its schema and converters whose cases pass', async () => {
    const init = await runTbi(['init'], { cwd: project });
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('npx tbi start');
    // The plugin built for a future plugin API is left out, with the reason.
    expect(init.stderr).toMatch(/leaving out tbi-fixture-future: .*requires plugin API \^2\.0\.0, but this host provides plugin API 1\.3\.0/);
    const text = await readFile(path.join(project, 'tbi.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./tbi.schema.json');
    const config = parse(text) as { integrations: Array<{ type: string; config: Record<string, unknown>; uplinkConverter: { file: string } }> };
    expect(config.integrations).toEqual([
      expect.objectContaining({ type: 'echo', config: { key: 'change-me' }, uplinkConverter: { file: 'converters/echo-uplink.js' } }),
    ]);
    const schema = JSON.parse(await readFile(path.join(project, 'tbi.schema.json'), 'utf8')) as { title: string };
    expect(schema.title).toBe('tbi host configuration');
    expect((await readdir(path.join(project, 'converters'))).sort()).toEqual(['echo-uplink.cases.json', 'echo-uplink.js']);

    const cases = await runTbi(['test-converters', 'converters'], { cwd: project });
    expect(cases.stdout).toContain('2 passed, 0 failed');
    expect(cases.code).toBe(0);
    const validate = await runTbi(['validate'], { cwd: project });
    expect(validate.stdout).toContain('tbi.yaml is valid: 1 integration(s)');
  });

  it('refuses to overwrite, naming the files, and writes nothing', async () => {
    await rm(path.join(project, 'tbi.yaml'), { force: true });
    await writeFile(path.join(project, 'tbi.yaml'), 'mine: true\n');
    const again = await runTbi(['init'], { cwd: project });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /not writing anything: tbi\.yaml, tbi\.schema\.json, converters\/echo-uplink\.js, converters\/echo-uplink\.cases\.json already exist/,
    );
    expect(await readFile(path.join(project, 'tbi.yaml'), 'utf8')).toBe('mine: true\n');
  });

  it('says what to install when no plugin is installed', async () => {
    const empty = await packedProject([]);
    const init = await runTbi(['init'], { cwd: empty });
    expect(init.code).toBe(1);
    expect(init.stderr).toContain('no usable tbi plugin is installed');
    expect(init.stderr).toContain('npm install @tbi/plugin-http');
  });

  it('has --help', async () => {
    const help = await runTbi(['init', '--help'], { cwd: project });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('never overwrites');
  });
});
