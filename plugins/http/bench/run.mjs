// Load test of the HTTP integration through the whole pipeline, against a real `tbi start` process:
// POST a JSON body to /api/v1/integrations/http/bench (uplink converter in the sandbox + embedded
// SQLite store, answered only once stored) versus GET /healthz on the same host (baseline).
// Protocol of scripts/bench.mjs: progress on stderr, one JSON line last on stdout.
// Needs the workspace built (`pnpm build`). About one minute.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { startHostProcess } from '@tbi/plugin-testkit';

const pluginDir = path.resolve(import.meta.dirname, '..');
const root = path.resolve(pluginDir, '../..');
const DURATION = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP = 3;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DEVICES = 100;

const log = (msg) => process.stderr.write(`[http bench] ${msg}\n`);

const UPLINK = `
  var data = decodeToJson(payload);
  return { deviceName: data.deviceName, deviceType: 'bench', telemetry: { temperature: data.temperature, humidity: data.humidity } };
`;

function startHost(dir) {
  const config = {
    dataDir: path.join(dir, 'data'),
    plugins: [pluginDir],
    // `info` is needed to read the URL from the start-up lines; nothing is logged per request at info.
    log: { level: 'info' },
    integrations: [{ name: 'bench', type: 'http', config: { routingKey: 'bench' }, uplinkConverter: { inline: UPLINK } }],
  };
  return startHostProcess({ dir, config });
}

function run(options) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, pipelining: 1, ...options }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

function row(name, result, baseline) {
  const rps = Math.round(result.requests.average);
  const non2xx = result.non2xx + result.errors + result.timeouts;
  const share = baseline === undefined ? '100 %' : `${Math.round((100 * rps) / baseline)} %`;
  return [name, rps, result.latency.p50, result.latency.p97_5, result.latency.p99, non2xx, share];
}

async function main() {
  for (const need of [path.join(root, 'host', 'dist', 'cli', 'main.js'), path.join(pluginDir, 'dist', 'plugin.js')]) {
    if (!existsSync(need)) throw new Error(`${path.relative(root, need)} is missing: run \`pnpm build\` first`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'tbi-http-bench-'));
  const host = await startHost(dir);
  log(`host at ${host.url}; ${CONNECTIONS} connections, ${DURATION} s per case`);
  try {
    const endpoint = `${host.url}/api/v1/integrations/http/bench`;
    let n = 0;
    const uplink = {
      url: endpoint,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify({ deviceName: `bench-${n++ % DEVICES}`, temperature: 20 + (n % 10), humidity: 40 }),
          }),
        },
      ],
    };
    const baselineCase = { url: `${host.url}/healthz` };

    log('warming up');
    await run({ ...uplink, duration: WARMUP });
    await run({ ...baselineCase, duration: WARMUP });

    log('baseline: GET /healthz');
    const base = await run({ ...baselineCase, duration: DURATION });
    log(`  ${Math.round(base.requests.average)} req/s`);
    log('uplink: POST JSON through converter + store');
    const up = await run({ ...uplink, duration: DURATION });
    log(`  ${Math.round(up.requests.average)} req/s, non-2xx ${up.non2xx}, errors ${up.errors}`);

    const baseRps = Math.round(base.requests.average);
    const share = Math.round((100 * up.requests.average) / base.requests.average);
    process.stdout.write(
      `${JSON.stringify({
        suite: 'plugin-http',
        title: 'HTTP integration: webhook uplinks through the whole pipeline',
        description: `autocannon, ${CONNECTIONS} connections, ${DURATION} s per case, against one \`tbi start\` process on loopback. The uplink case POSTs a small JSON body for ${DEVICES} devices to the HTTP integration; each answer waits until the converter (isolated-vm) has run and the embedded SQLite platform has committed the record (synchronous=FULL). The baseline is GET /healthz on the same host.`,
        columns: ['case', 'req/s', 'p50 ms', 'p97.5 ms', 'p99 ms', 'non-2xx/errors', 'of baseline'],
        rows: [row('GET /healthz (baseline)', base), row('POST JSON uplink → converter → store', up, baseRps)],
        notes: [
          `Uplink throughput is ${share} % of the trivial route (goal ≥ 50 %).`,
          'The load generator runs on the same 2-core machine as the host, so both figures are bounded by it.',
        ],
      })}\n`,
    );
  } finally {
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  log(error.stack ?? String(error));
  process.exitCode = 1;
});
