// Load test of the HTTP integration through the whole pipeline, against a real `tbi start` process:
// POST a JSON body to /api/v1/integrations/http/bench (uplink converter in the sandbox + embedded
// SQLite store, answered only once stored) versus GET /healthz on the same host (baseline) and a
// bare `node:http` server that parses the same JSON (floor of CPU per request).
// CPU per request is the CPU time (user + system, /proc) of the whole process tree of the server
// (the host and its sandbox processes) during the case, divided by the requests answered.
// The event-loop stall is prom-client's `nodejs_eventloop_lag_*` of the host, reset at each scrape.
// BENCH_CPU_PROF=<dir> runs the host under `node --cpu-prof` and writes the profile there;
// BENCH_UPLINK_ONLY=1 runs the uplink case alone (for such a profile).
// Protocol of scripts/bench.mjs: progress on stderr, one JSON line last on stdout.
// Needs the workspace built (`pnpm build`). About one minute.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { startHostProcess } from '@tbi/plugin-testkit';
import { processTreeCpuSeconds } from '../../../scripts/bench-support.mjs';

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
  const profile = process.env.BENCH_CPU_PROF;
  const env = profile === undefined ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(profile)}` };
  return startHostProcess({ dir, config, env });
}

/** The server a bare `node:http` baseline runs: read the body, JSON.parse it, answer 200. */
const BARE_SERVER = `
  const http = require('node:http');
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: body.deviceName !== undefined }));
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

function startBare() {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
    child.stdout.once('data', (chunk) => resolve({ url: `http://127.0.0.1:${String(chunk).trim()}`, child }));
  });
}

/** The host's event-loop lag gauges since the previous scrape (prom-client resets them at each scrape). */
async function eventLoopLag(host) {
  // One scrape: a second one would read gauges the first had reset.
  const text = await (await fetch(`${host.url}/metrics`)).text();
  const gauge = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? Number.NaN);
  return { p99Ms: Math.round(gauge('nodejs_eventloop_lag_p99_seconds') * 1000), maxMs: Math.round(gauge('nodejs_eventloop_lag_max_seconds') * 1000) };
}

/** Runs one case and measures the server's CPU per answered request, and (for the host) its stalls. */
async function measure(options, pid, host) {
  if (host !== undefined) await eventLoopLag(host);
  const before = processTreeCpuSeconds(pid);
  const result = await run(options);
  const cpu = processTreeCpuSeconds(pid) - before;
  const lag = host === undefined ? undefined : await eventLoopLag(host);
  const answered = result.requests.total;
  return { result, cpuUsPerRequest: answered === 0 ? 0 : Math.round((cpu * 1e6) / answered), lag };
}

function run(options) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, pipelining: 1, ...options }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

function row(name, { result, cpuUsPerRequest, lag }, baseline) {
  const rps = Math.round(result.requests.average);
  const non2xx = result.non2xx + result.errors + result.timeouts;
  const share = baseline === undefined ? '' : `${Math.round((100 * rps) / baseline)} %`;
  const stall = lag === undefined ? '' : `${lag.p99Ms} / ${lag.maxMs}`;
  return [name, rps, result.latency.p50, result.latency.p99, non2xx, cpuUsPerRequest, stall, share];
}

async function main() {
  for (const need of [path.join(root, 'host', 'dist', 'cli', 'main.js'), path.join(pluginDir, 'dist', 'plugin.js')]) {
    if (!existsSync(need)) throw new Error(`${path.relative(root, need)} is missing: run \`pnpm build\` first`);
  }
  const bare = await startBare();
  const dir = await mkdtemp(path.join(tmpdir(), 'tbi-http-bench-'));
  const host = await startHost(dir);
  log(`host at ${host.url}, bare node:http at ${bare.url}; ${CONNECTIONS} connections, ${DURATION} s per case`);
  try {
    let n = 0;
    const uplinkTo = (url) => ({
      url,
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
    });
    const uplink = uplinkTo(`${host.url}/api/v1/integrations/http/bench`);
    const healthz = { url: `${host.url}/healthz` };

    const uplinkOnly = process.env.BENCH_UPLINK_ONLY === '1';
    log('warming up');
    await run({ ...uplink, duration: WARMUP });
    if (!uplinkOnly) {
      await run({ ...healthz, duration: WARMUP });
      await run({ ...uplinkTo(bare.url), duration: WARMUP });
    }

    const cases = [];
    const step = async (name, options, pid, withHost) => {
      log(name);
      const measured = await measure({ ...options, duration: DURATION }, pid, withHost ? host : undefined);
      log(
        `  ${Math.round(measured.result.requests.average)} req/s, ${measured.cpuUsPerRequest} µs CPU/request, non-2xx ${measured.result.non2xx}, errors ${measured.result.errors}`,
      );
      cases.push([name, measured]);
      return measured;
    };
    const base = uplinkOnly ? undefined : await step('GET /healthz (baseline)', healthz, host.child.pid, true);
    if (!uplinkOnly) await step('bare node:http server, JSON.parse of the same body (CPU floor)', uplinkTo(bare.url), bare.child.pid, false);
    const batches = async () => ({
      stored: await host.metric('tbi_messages_stored_total'),
      conversions: await host.metric('tbi_conversion_seconds_count'),
      stores: await host.metric('tbi_store_seconds_count'),
      storeSeconds: await host.metric('tbi_store_seconds_sum'),
    });
    const before = await batches();
    const up = await step('POST JSON uplink → converter → store', uplink, host.child.pid, true);
    const after = await batches();
    const per = (key) => (after[key] - before[key] === 0 ? 0 : (after.stored - before.stored) / (after[key] - before[key]));
    const storeMs = (1000 * (after.storeSeconds - before.storeSeconds)) / Math.max(1, after.stores - before.stores);
    const batching = `The uplink case stored ${per('conversions').toFixed(1)} requests per converter call and ${per('stores').toFixed(1)} per ingest call (one commit), ${storeMs.toFixed(1)} ms per ingest call.`;
    log(`  ${batching}`);

    const baseRps = base?.result.requests.average ?? Number.NaN;
    const share = Math.round((100 * up.result.requests.average) / baseRps);
    process.stdout.write(
      `${JSON.stringify({
        suite: 'plugin-http',
        title: 'HTTP integration: webhook uplinks through the whole pipeline',
        description: `autocannon, ${CONNECTIONS} connections, ${DURATION} s per case, against one \`tbi start\` process on loopback. The uplink case POSTs a small JSON body for ${DEVICES} devices to the HTTP integration; each answer waits until the converter (isolated-vm) has run and the embedded SQLite platform has committed the record (synchronous=FULL). The baseline is GET /healthz on the same host; a bare node:http server (its own process) that parses the same JSON is the floor of CPU per request. CPU µs/request is user + system time of the server's whole process tree (host and sandbox processes) over the requests answered.`,
        columns: ['case', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx/errors', 'CPU µs/request', 'event-loop lag p99 / max ms', 'of /healthz'],
        rows: cases.map(([name, measured]) => row(name, measured, name.startsWith('GET /healthz') ? undefined : baseRps)),
        notes: [
          `Uplink throughput is ${share} % of GET /healthz (goal ≥ 40 %), at ${up.cpuUsPerRequest} µs CPU per request (goal ≤ 60 µs) and p99 ${up.result.latency.p99} ms (goal ≤ 20 ms).`,
          batching,
          "Event-loop lag is prom-client's monitorEventLoopDelay (10 ms resolution) of the host during the case; the max bounds the p99.9 (goal ≤ 50 ms).",
          `The load generator runs on the same machine as the host (1-minute load average ${loadavg()[0].toFixed(1)} at the end of the run), so req/s is bounded by it; CPU per request is the steadier figure.`,
        ],
      })}\n`,
    );
  } finally {
    await host.stop();
    bare.child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  log(error.stack ?? String(error));
  process.exitCode = 1;
});
