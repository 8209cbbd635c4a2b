import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { PLUGIN_API_VERSION, PluginError } from '@tbi/plugin-api';
import { discoverPlugins, loadPlugin, selectPlugins, type Discovery } from '../src/index.js';
import { FIXTURES, packedProject, TBI_BIN } from './helpers/packed-project.js';

const run = promisify(execFile);

describe('plugin discovery from packed tarballs', () => {
  let project: string;
  let discovery: Discovery;
  const byName = (name: string) => discovery.plugins.find((p) => p.packageName === name)!;

  beforeAll(async () => {
    project = await packedProject(['echo', 'echo-clone', 'throws', 'future']);
    discovery = await discoverPlugins({ from: project });
  });

  it('finds every plugin among the project dependencies, installed in its node_modules', async () => {
    expect(discovery.projectDir).toBe(project);
    expect(discovery.plugins.map((p) => p.packageName).sort()).toEqual([
      'tbi-fixture-echo',
      'tbi-fixture-echo-clone',
      'tbi-fixture-future',
      'tbi-fixture-throws',
    ]);
    const echo = byName('tbi-fixture-echo');
    expect(echo).toMatchObject({ version: '1.2.3', type: 'echo', foundBy: 'dependency', compatible: true });
    expect(echo.dir).toBe(await realpath(path.join(project, 'node_modules', 'tbi-fixture-echo')));
    // @tbi/plugin-api is a dependency too, but has no "tbi" field: not a plugin.
    expect(discovery.plugins.some((p) => p.packageName === '@tbi/plugin-api')).toBe(false);
  });

  it('refuses a plugin built for another plugin API, naming both versions and what to install', () => {
    const future = byName('tbi-fixture-future');
    expect(future.compatible).toBe(false);
    expect(future.reason).toContain('tbi-fixture-future 2.0.0 requires plugin API ^2.0.0');
    expect(future.reason).toContain(`this host provides plugin API ${PLUGIN_API_VERSION}`);
    expect(future.reason).toContain('Install a newer @tbi/host');
    const error = (() => {
      try {
        selectPlugins([{ type: 'future', where: 'tbi.yaml:3: integrations[0].type' }], discovery.plugins);
      } catch (e) {
        return e as PluginError;
      }
    })();
    expect(error?.code).toBe('PLUGIN_INCOMPATIBLE');
    expect(error?.message).toMatch(
      new RegExp(
        `^tbi\\.yaml:3: integrations\\[0\\]\\.type: cannot use the integration type "future": tbi-fixture-future 2\\.0\\.0 requires plugin API \\^2\\.0\\.0, but this host provides plugin API ${PLUGIN_API_VERSION.replaceAll('.', '\\.')}`,
      ),
    );
  });

  it('rejects a type that two plugins claim, naming both packages', () => {
    expect(() => selectPlugins([{ type: 'echo', where: 'integrations[0].type' }], discovery.plugins)).toThrow(
      /the integration type "echo" is provided by more than one installed plugin: tbi-fixture-echo 1\.2\.3 \(.*\) and tbi-fixture-echo-clone 0\.1\.0/,
    );
  });

  it('names the package to install for a type nobody provides', () => {
    expect(() => selectPlugins([{ type: 'mqtt', where: 'integrations[1].type' }], discovery.plugins)).toThrow(
      'integrations[1].type: no installed plugin provides the integration type "mqtt". Install @tbi/plugin-mqtt in the project (`npm install @tbi/plugin-mqtt`) or list it under "plugins:". Installed types: boom, echo.',
    );
    expect(() => selectPlugins([{ type: 'acme', where: 'integrations[0].type' }], discovery.plugins)).toThrow(/"tbi": \{ "type": "acme" \}/);
  });

  it('finds explicit plugins: entries by local path and by package name, and names a missing one', async () => {
    const local = await discoverPlugins({ from: project, explicit: ['./node_modules/tbi-fixture-echo', 'tbi-fixture-throws'] });
    expect(local.plugins).toHaveLength(4); // the same packages, not listed twice
    const missing = await discoverPlugins({ from: project, explicit: ['@tbi/plugin-kafka'], describeEntry: (i) => `tbi.yaml:2: plugins[${i}]` }).catch(
      (e: unknown) => e as PluginError,
    );
    expect((missing as PluginError).code).toBe('PLUGIN_NOT_FOUND');
    expect((missing as PluginError).message).toBe(
      'tbi.yaml:2: plugins[0]: the plugin "@tbi/plugin-kafka" is not installed. Install it in the project (`npm install @tbi/plugin-kafka`).',
    );
  });
});

describe('loadPlugin', () => {
  // In-process imports use the fixtures in place: under vitest, packages installed from tarballs
  // would resolve @tbi/plugin-api through the "@tbi/source" condition to sources they do not ship.
  // The spawned-CLI tests below import plugins installed from tarballs.
  it('imports a selected plugin and checks its definition; an entry that throws is a PluginError', async () => {
    const found = await discoverPlugins({ from: FIXTURES, explicit: ['./echo', './throws'] });
    const echo = await loadPlugin(found.plugins.find((p) => p.type === 'echo')!);
    expect(echo.definition.type).toBe('echo');
    const error = await loadPlugin(found.plugins.find((p) => p.type === 'boom')!).catch((e: unknown) => e as PluginError);
    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).code).toBe('PLUGIN_LOAD_FAILED');
    expect((error as PluginError).message).toContain('tbi-fixture-throws was imported');
  });
});

describe('tbi plugins --json', () => {
  it('lists two installed plugins with package, version, type and compatibility without importing them', async () => {
    const project = await packedProject(['echo', 'throws']);
    const { stdout } = await run(process.execPath, [TBI_BIN, 'plugins', '--json'], { cwd: project });
    const list = JSON.parse(stdout) as { pluginApi: string; plugins: Array<Record<string, unknown>> };
    expect(list.pluginApi).toBe(PLUGIN_API_VERSION);
    expect(list.plugins.map(({ package: p, version, type, pluginApi, compatible }) => ({ p, version, type, pluginApi, compatible }))).toEqual([
      { p: 'tbi-fixture-throws', version: '0.0.1', type: 'boom', pluginApi: '^1.0.0', compatible: true },
      { p: 'tbi-fixture-echo', version: '1.2.3', type: 'echo', pluginApi: '^1.0.0', compatible: true },
    ]);
    const human = await run(process.execPath, [TBI_BIN, 'plugins'], { cwd: project });
    expect(human.stdout).toMatch(/boom\s+tbi-fixture-throws\s+0\.0\.1\s+\^1\.0\.0\s+ok/);
  });
});
