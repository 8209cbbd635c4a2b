// The release rehearsal (docs/releasing.md): every public package versioned and published to a real
// registry (Verdaccio on loopback) exactly as a release does, then installed into empty folders with
// only that registry, as the README tells a user, and run against the real test brokers.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaListeners, mosquittoPorts, port, rabbitmqPorts } from '../ports.mjs';
import { connectorInstallLine, readmeInstall } from './readme-lines.js';
import { type Registry, startRegistry } from './registry.js';
import { copyRepository, publishThirdParty, ROOT, THIRD_PARTY, versionAndPublish, workspacePackages, writeNpmrc } from './release-copy.js';
import { emptyProject, installSender, mustRun, run, startHost, type RunningHost } from './user-project.js';

const HOST_PORT = port('TBI_RELEASE_HOST_PORT');
const TCP_PORT = port('TBI_RELEASE_TCP_PORT');
const TOKEN = 'rehearsal-control-token-0123456789';
const RUN = `r${Date.now().toString(36)}`;
const timings: string[] = [];

let work: string;
let registry: Registry;
let published: Map<string, string>;
/** The environment of every command: caches shared by the cases of this run. */
let env: NodeJS.ProcessEnv;

async function timed<T>(what: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await step();
  } finally {
    timings.push(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'tbi-rehearsal-'));
  // npm's cache and pnpm's metadata cache are this run's own (its packages are republished with
  // the same versions and new contents every run); pnpm's store is content-addressed and shared.
  env = {
    npm_config_cache: path.join(work, 'npm-cache'),
    XDG_CACHE_HOME: path.join(work, 'xdg-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  registry = await timed('start verdaccio', () => startRegistry(port('TBI_RELEASE_REGISTRY_PORT'), path.join(work, 'registry')));
  const copy = path.join(work, 'repo');
  await timed('copy, changeset version, changeset publish', async () => {
    await copyRepository(copy);
    await writeNpmrc(copy, registry.url, registry.token);
    await versionAndPublish(copy);
    published = new Map((await workspacePackages(copy)).filter((p) => !p.private).map((p) => [p.name, p.version]));
    await publishThirdParty(copy);
  });
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  console.log(`release rehearsal timings:\n  ${timings.join('\n  ')}`);
});

/** Replaces the `config:` block `tbi init` wrote for the project's one integration. */
async function setConfig(project: string, config: Record<string, unknown>): Promise<void> {
  const file = path.join(project, 'tbi.yaml');
  const text = await readFile(file, 'utf8');
  const replaced = text.replace(/^ {4}config:.*\n(?: {6}.*\n)*/m, `    config: ${JSON.stringify(config)}\n`);
  expect(replaced).not.toBe(text);
  await writeFile(file, replaced);
}

function hostEnv(): NodeJS.ProcessEnv {
  return { ...env, TBI_PORT: String(HOST_PORT), TBI_TOKEN: TOKEN };
}

async function latestTelemetry(device: string): Promise<Record<string, { value: unknown }> | undefined> {
  const res = await fetch(`http://127.0.0.1:${HOST_PORT}/api/devices/${device}/telemetry/latest`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(
    () => undefined,
  );
  return res?.ok ? ((await res.json()) as Record<string, { value: unknown }>) : undefined;
}

/** Sends until the platform has stored the reading (a broker may take a moment to hand it over), within a deadline. */
async function sendUntilStored(send: () => Promise<unknown>, device: string, host: RunningHost, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    last = await send().catch((e: unknown) => e);
    for (let i = 0; i < 10; i++) {
      if ((await latestTelemetry(device))?.temperature?.value === 21.5) return;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`${device}: not stored within ${timeoutMs} ms; last send: ${String(last)}\nhost output:\n${host.output()}`);
}

/**
 * Ctrl-C stops the host cleanly: it logs "host stopped" and nothing at error level. (npx and pnpm
 * end by the same signal as the user sent them, so their own exit code says nothing of the host's.)
 */
async function stopCleanly(host: RunningHost): Promise<void> {
  const { code, signal } = await host.stop();
  expect(code === 0 || signal === 'SIGINT', `exit ${code} ${signal}\n${host.output()}`).toBe(true);
  expect(
    host.logs().some((l) => l.msg === 'host stopped'),
    host.output(),
  ).toBe(true);
  expect(
    host.logs().filter((l) => Number(l.level) >= 50),
    host.output(),
  ).toEqual([]);
}

const reading = (device: string) => JSON.stringify({ deviceName: device, temperature: 21.5 });

describe('the release rehearsal', { timeout: 300_000 }, () => {
  it('publishes every public package of the workspace at its new version', async () => {
    const workspace = (await workspacePackages(ROOT)).filter((p) => !p.private);
    expect([...published.keys()].sort()).toEqual(workspace.map((p) => p.name).sort());
    expect(published.get('@tbi/host')).toBeDefined();
    for (const [name, version] of published) {
      const res = await fetch(`${registry.url}${name.replace('/', '%2f')}`);
      const doc = (await res.json()) as { 'dist-tags': { latest: string }; versions: Record<string, { peerDependencies?: Record<string, string> }> };
      expect(doc['dist-tags'].latest, name).toBe(version);
      // workspace: ranges were replaced by real ones on publish.
      expect(JSON.stringify(doc.versions[version]), name).not.toContain('workspace:');
    }
  });

  for (const tool of ['npm', 'pnpm']) {
    it(`the README's quick start with ${tool}: install, init, start, a webhook stored, a clean stop`, async () => {
      const lines = readmeInstall(tool);
      const project = await emptyProject(work, registry.url, `readme-${tool}`);
      const start = lines.pop()!;
      await timed(`README ${tool}: ${lines.join(' && ')}`, async () => {
        for (const line of lines) await mustRun(line, project, env);
      });
      const host = await timed(`README ${tool}: ${start} until started`, () => startHost(start, project, hostEnv()));
      try {
        const endpoint = host.logs().find((l) => typeof l.endpoint === 'string')?.endpoint as string;
        expect(endpoint).toMatch(/^\/api\/v1\/integrations\/http\//);
        const device = `readme-${tool}-${RUN}`;
        const res = await fetch(`http://127.0.0.1:${HOST_PORT}${endpoint}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: reading(device),
        });
        // Stored, and no downlink to answer with: ThingsBoard's 204 (`replaceNoContentToOk` makes it 200).
        expect(res.status).toBe(204);
        expect((await latestTelemetry(device))?.temperature?.value).toBe(21.5);
      } finally {
        await stopCleanly(host);
      }
    });
  }

  const topic = (type: string) => `rehearsal-${type}-${RUN}`;
  const connectors: Record<string, { config: Record<string, unknown>; senderEnv: NodeJS.ProcessEnv }> = {
    mqtt: {
      config: { host: '127.0.0.1', port: mosquittoPorts().plain, topicFilters: [{ filter: topic('mqtt'), qos: 1 }] },
      senderEnv: { TBI_SEND_PORT: String(mosquittoPorts().plain), TBI_SEND_TOPIC: topic('mqtt') },
    },
    kafka: {
      config: { bootstrapServers: kafkaListeners().plaintext, uplink: { topics: [topic('kafka')], autoCreateTopics: true } },
      senderEnv: { TBI_SEND_BROKER: kafkaListeners().plaintext, TBI_SEND_TOPIC: topic('kafka') },
    },
    rabbitmq: {
      config: {
        host: '127.0.0.1',
        port: rabbitmqPorts().amqp,
        username: 'tbi',
        password: 'tbi-secret',
        uplink: { queues: [topic('rabbitmq')] },
        topology: { queues: [{ name: topic('rabbitmq'), arguments: { 'x-expires': 600_000 } }] },
      },
      senderEnv: { TBI_SEND_URL: `amqp://tbi:tbi-secret@127.0.0.1:${rabbitmqPorts().amqp}`, TBI_SEND_QUEUE: topic('rabbitmq') },
    },
    pulsar: {
      config: {
        webServiceUrl: `http://127.0.0.1:${port('PULSAR_WEB_PORT')}`,
        uplink: { topics: [`persistent://public/default/${topic('pulsar')}`], subscriptionName: 'tbi-rehearsal', initialPosition: 'Earliest' },
      },
      senderEnv: { TBI_SEND_WEB_URL: `http://127.0.0.1:${port('PULSAR_WEB_PORT')}`, TBI_SEND_TOPIC: topic('pulsar') },
    },
  };

  for (const [type, { config, senderEnv }] of Object.entries(connectors)) {
    it(`${type}: its README's install line in an empty folder, tbi init, tbi start against the test broker, stored, clean stop`, async () => {
      const project = await emptyProject(work, registry.url, type);
      const install = connectorInstallLine(type);
      expect(install).toBe(`npm install @tbi/host @tbi/plugin-${type}`);
      await timed(`${type}: npm init -y && ${install} && npx tbi init`, async () => {
        await mustRun('npm init -y', project, env);
        await mustRun(install, project, env);
        expect(await mustRun('npx tbi init', project, env)).toContain(`integrations: ${type} (@tbi/plugin-${type} ${published.get(`@tbi/plugin-${type}`)})`);
      });
      await setConfig(project, config);
      expect(await mustRun('npx tbi validate', project, hostEnv())).toContain('tbi.yaml is valid: 1 integration(s)');
      const sender = await installSender(project, type);
      const host = await startHost('npx tbi start', project, hostEnv());
      try {
        const device = `${type}-${RUN}`;
        await timed(`${type}: sent until stored`, () => sendUntilStored(() => mustRun(`node ${sender} ${reading(device)}`, project, senderEnv), device, host));
      } finally {
        await stopCleanly(host);
      }
    });
  }

  it(`a third-party plugin (${THIRD_PARTY}) is discovered and runs; removed, the host names what to install; its version for plugin API 2 is refused`, async () => {
    const project = await emptyProject(work, registry.url, 'third-party');
    await timed('third party: install, init', async () => {
      await mustRun('npm init -y', project, env);
      await mustRun(`npm install @tbi/host ${THIRD_PARTY}@0.1.0`, project, env);
      expect(await mustRun('npx tbi plugins', project, env)).toMatch(new RegExp(`tcp-line +${THIRD_PARTY} +0\\.1\\.0 +\\^1\\.2\\.0 +ok`));
      await mustRun('npx tbi init', project, env);
    });
    await setConfig(project, { host: '127.0.0.1', port: TCP_PORT });
    const sender = await installSender(project, 'tcp-line');
    const host = await startHost('npx tbi start', project, hostEnv());
    try {
      const device = `tcp-line-${RUN}`;
      await sendUntilStored(() => mustRun(`node ${sender} ${reading(device)}`, project, { TBI_SEND_PORT: String(TCP_PORT) }), device, host);
    } finally {
      await stopCleanly(host);
    }

    await mustRun(`npm uninstall ${THIRD_PARTY}`, project, env);
    const removed = await run('npx tbi start', project, hostEnv());
    expect(removed.code).toBe(1);
    expect(removed.output).toContain('no installed plugin provides the integration type "tcp-line"');

    // 0.2.0 declares plugin API 2 in its manifest (its peer range still allows this API, as when
    // an author bumps one and not the other): package managers install it; the host refuses it
    // before importing any of its code, and names both versions and what to install.
    const other = await emptyProject(work, registry.url, 'third-party-v2');
    await mustRun('npm init -y', other, env);
    await mustRun(`pnpm add --allow-build=isolated-vm @tbi/host ${THIRD_PARTY}@0.2.0`, other, env);
    for (const file of ['tbi.yaml', 'converters']) await cp(path.join(project, file), path.join(other, file), { recursive: true });
    const refused = await run('pnpm exec tbi start', other, hostEnv());
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`${THIRD_PARTY} 0.2.0 requires plugin API ^2.0.0, but this host provides plugin API 1.3.0`);
    expect(refused.output).toContain(`a version of ${THIRD_PARTY} built for plugin API ^1.0.0`);
    await mustRun(`pnpm add ${THIRD_PARTY}@^0.1.0`, other, env);
    expect(await mustRun('pnpm exec tbi validate', other, hostEnv())).toContain(`tcp-line (${THIRD_PARTY} 0.1.0)`);
  });
});
