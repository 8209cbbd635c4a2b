// A real npm registry for the release rehearsal: Verdaccio on loopback with its own storage. The
// tbi scopes are local only (what the rehearsal publishes); everything else is proxied to the
// registry npm itself uses here, through the same proxy and CA settings npm has.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';

/** Scopes the rehearsal publishes: never looked up upstream, so a same-named public package cannot leak in. */
export const LOCAL_SCOPES = ['@tbi', '@acme'];

export interface Registry {
  url: string;
  /** A token of a user created on it, for publishing. */
  token: string;
  stop(): Promise<void>;
}

function npmConfig(key: string): string | undefined {
  const value = execFileSync('npm', ['config', 'get', key], { encoding: 'utf8' }).trim();
  return value === '' || value === 'null' || value === 'undefined' ? undefined : value;
}

/** The uplink as npm here reaches the public registry: its registry URL, proxy and CA file. */
function uplinkSettings(): { url: string; proxy: Record<string, string>; cafile: string | undefined } {
  const proxy: Record<string, string> = {};
  const https = npmConfig('https-proxy') ?? process.env.HTTPS_PROXY ?? process.env.https_proxy;
  const http = npmConfig('proxy') ?? process.env.HTTP_PROXY ?? process.env.http_proxy;
  const noProxy = npmConfig('noproxy') ?? process.env.NO_PROXY ?? process.env.no_proxy;
  if (https) proxy.https_proxy = https;
  if (http) proxy.http_proxy = http;
  if (noProxy) proxy.no_proxy = noProxy;
  return { url: npmConfig('registry') ?? 'https://registry.npmjs.org/', proxy, cafile: npmConfig('cafile') };
}

function configYaml(storage: string, htpasswd: string, uplink: ReturnType<typeof uplinkSettings>): string {
  const proxyLines = Object.entries(uplink.proxy).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  const local = LOCAL_SCOPES.map((scope) => `  '${scope}/*':\n    access: $all\n    publish: $authenticated`);
  return [
    `storage: ${JSON.stringify(storage)}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(htpasswd)}`,
    '    max_users: 10',
    'uplinks:',
    '  npmjs:',
    `    url: ${JSON.stringify(uplink.url)}`,
    '    timeout: 60s',
    '    max_fails: 5',
    ...proxyLines,
    'packages:',
    ...local,
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    proxy: npmjs',
    'log: { type: stdout, format: json, level: warn }',
    'publish:',
    '  allow_offline: true',
    '',
  ].join('\n');
}

async function waitForPing(url: string, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with code ${child.exitCode} before answering ${url}-/ping`);
    const ok = await fetch(`${url}-/ping`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`verdaccio did not answer ${url}-/ping in time`);
}

/**
 * Starts Verdaccio on 127.0.0.1:`port` with `dir` for its storage, config and log (`dir/verdaccio.log`).
 * Proxied packages it already holds in `dir/storage` are kept (a cache between runs); the local
 * scopes are wiped, so every rehearsal publishes afresh.
 */
export async function startRegistry(port: number, dir: string): Promise<Registry> {
  const storage = path.join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  for (const scope of LOCAL_SCOPES) await rm(path.join(storage, scope), { recursive: true, force: true });
  const htpasswd = path.join(dir, 'htpasswd');
  await rm(htpasswd, { force: true });
  const uplink = uplinkSettings();
  const config = path.join(dir, 'config.yaml');
  await writeFile(config, configYaml(storage, htpasswd, uplink));

  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve('verdaccio/package.json')), 'bin', 'verdaccio');
  const log = createWriteStream(path.join(dir, 'verdaccio.log'), { flags: 'a' });
  // Verdaccio's HTTP client trusts Node's CAs plus NODE_EXTRA_CA_CERTS: npm's cafile goes there.
  const env = { ...process.env, ...(uplink.cafile && !process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: uplink.cafile } : {}) };
  const child = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    log.end();
  };
  try {
    await waitForPing(url, child, Date.now() + 60_000);
    const user = await fetch(`${url}-/user/org.couchdb.user:rehearsal`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'rehearsal', password: 'rehearsal-password' }),
    });
    const body = (await user.json()) as { token?: string; error?: string };
    if (!user.ok || !body.token) throw new Error(`verdaccio refused to create the publishing user: ${user.status} ${body.error ?? ''}`);
    return { url, token: body.token, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
