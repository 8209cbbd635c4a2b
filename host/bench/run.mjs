// Pipeline benchmark: messages per second through the whole uplink path (isolated-vm converter +
// embedded SQLite store + ack), against the same converter and store called directly (baseline).
// Needs built dist/ of @tbi/host, @tbi/converter-sandbox, @tbi/platform-embedded (`pnpm build`).
// Progress on stderr; one JSON line on stdout (protocol: scripts/bench.mjs).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { createConverterSandbox } from '@tbi/converter-sandbox';
import { openEmbeddedPlatform } from '@tbi/platform-embedded';
import { openPipeline } from '../dist/pipeline/index.js';
import { processTreeCpuSeconds } from '../../scripts/bench-support.mjs';

const SCALE = Number(process.env.TBI_BENCH_SCALE ?? 1);
const N = Math.round(20_000 * SCALE);

const UPLINK = `
var d = decodeToJson(payload);
return { deviceName: d.id, deviceType: 'meter', telemetry: { ts: d.ts, values: { power: d.p, voltage: d.v, ok: d.ok } } };`;

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const silent = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silent;
  },
};
const noMetrics = {
  counter: () => ({ inc() {} }),
  gauge: () => ({ set() {}, inc() {}, dec() {} }),
  histogram: () => ({ observe() {} }),
};

function payload(i) {
  return Buffer.from(JSON.stringify({ id: `meter-${i % 500}`, ts: 1_700_000_000_000 + i, p: i % 1000, v: 230.5, ok: true }));
}

/** Fresh store + converter, with call counters. */
async function parts() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tbi-bench-pipeline-'));
  const platform = await openEmbeddedPlatform({ dataDir: path.join(dir, 'platform') });
  const sandbox = createConverterSandbox({ poolSize: 1, defaultLimits: { timeoutMs: 5000 } });
  const converter = await sandbox.uplink('bench', UPLINK);
  const counts = { runs: 0, converted: 0, ingests: 0 };
  const run = converter.run.bind(converter);
  converter.run = (batch) => {
    counts.runs++;
    counts.converted += batch.length;
    return run(batch);
  };
  const counted = {
    ingest: (items) => {
      counts.ingests++;
      return platform.ingest(items);
    },
    onCommand: (h) => platform.onCommand(h),
    commandResult: (id, r) => platform.commandResult(id, r),
  };
  await converter.run([{ payload: payload(0), metadata: {} }]); // warm the isolate
  Object.assign(counts, { runs: 0, converted: 0, ingests: 0 });
  return {
    dir,
    platform,
    counted,
    converter,
    counts,
    async close() {
      await platform.close();
      await sandbox.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function withPipeline(p, fn) {
  const pipeline = await openPipeline({ platform: p.counted, logger: silent, metrics: noMetrics, clock: { now: Date.now }, dataDir: p.dir });
  const channel = pipeline.attach({ name: 'bench', type: 'bench', metadata: {}, uplink: p.converter, downlinkMode: 'none', maxInFlight: 10_000 });
  try {
    return await fn(channel);
  } finally {
    await pipeline.close();
  }
}

function direct(size) {
  return {
    name: `direct: converter.run + platform.ingest per ${size} (baseline)`,
    n: N,
    async run(p, n) {
      for (let i = 0; i < n; i += size) {
        const batch = Array.from({ length: Math.min(size, n - i) }, (_, k) => ({ payload: payload(i + k), metadata: {} }));
        const results = await p.converter.run(batch);
        await p.counted.ingest(results.map((r) => ({ integration: 'bench', records: r.records })));
      }
    },
  };
}

const cases = [
  direct(100),
  direct(500),
  {
    name: 'pipeline: submit batches of 100, 10 at once',
    n: N,
    async run(p, n) {
      await withPipeline(p, async (channel) => {
        let next = 0;
        const worker = async () => {
          while (next < n) {
            const start = next;
            next += 100;
            await channel.uplink.submit(Array.from({ length: Math.min(100, n - start) }, (_, k) => ({ payload: payload(start + k), metadata: {} })));
          }
        };
        await Promise.all(Array.from({ length: 10 }, worker));
      });
    },
  },
  {
    name: 'direct: converter.run + platform.ingest per message (baseline)',
    n: Math.round(N / 10),
    async run(p, n) {
      for (let i = 0; i < n; i++) {
        const [r] = await p.converter.run([{ payload: payload(i), metadata: {} }]);
        await p.counted.ingest([{ integration: 'bench', records: r.records }]);
      }
    },
  },
  {
    name: 'pipeline: submit 1 message at a time, not awaited (MQTT-like, coalesced)',
    n: N,
    async run(p, n) {
      await withPipeline(p, async (channel) => {
        const pending = [];
        for (let i = 0; i < n; i++) {
          pending.push(channel.uplink.submit([{ payload: payload(i), metadata: {} }]));
          // A socket hands over messages in chunks; yield between chunks like one would.
          if (i % 100 === 99) await new Promise((r) => setImmediate(r));
          // Honour the in-flight bound like a paused source would.
          if (pending.length >= 5000) await Promise.all(pending.splice(0));
        }
        await Promise.all(pending);
      });
    },
  },
  {
    name: 'pipeline: submit 1 message, await it, then the next (one HTTP client)',
    n: Math.round(N / 10),
    async run(p, n) {
      await withPipeline(p, async (channel) => {
        for (let i = 0; i < n; i++) await channel.uplink.submit([{ payload: payload(i), metadata: {} }]);
      });
    },
  },
];

const rows = [];
for (const c of cases) {
  const p = await parts();
  try {
    log(`  ${c.name}: ${c.n} messages…`);
    const started = performance.now();
    const cpuBefore = processTreeCpuSeconds(process.pid);
    const stalls = monitorEventLoopDelay({ resolution: 10 });
    stalls.enable();
    await c.run(p, c.n);
    stalls.disable();
    const stall = `${Math.round(stalls.percentile(99.9) / 1e6)} / ${Math.round(stalls.max / 1e6)}`;
    const cpuUs = Math.round(((processTreeCpuSeconds(process.pid) - cpuBefore) * 1e6) / c.n);
    const seconds = (performance.now() - started) / 1000;
    const stored = p.platform.listDevices({ limit: 1000 }).total;
    if (stored !== Math.min(500, c.n)) throw new Error(`${c.name}: expected ${Math.min(500, c.n)} devices, found ${stored}`);
    const rate = Math.round(c.n / seconds);
    log(
      `    ${rate} msg/s, ${cpuUs} µs CPU/message, event-loop lag p99.9 / max ${stall} ms, ${p.counts.runs} converter calls, ${p.counts.ingests} ingest calls`,
    );
    rows.push([c.name, c.n, rate, cpuUs, stall, p.counts.runs, Math.round((p.counts.converted / p.counts.runs) * 10) / 10, p.counts.ingests]);
  } finally {
    await p.close();
  }
}

console.log(
  JSON.stringify({
    suite: 'host-pipeline',
    title: 'Uplink pipeline: converter sandbox + embedded store + ack',
    description:
      'Messages per second from submit to resolved outcome (converted in isolated-vm, stored durably in the embedded SQLite platform), ' +
      'against the same converter and store called directly. Each message is one device record with 3 telemetry values; 500 devices.',
    columns: ['case', 'messages', 'msg/s', 'CPU µs/message', 'event-loop lag p99.9 / max ms', 'converter calls', 'avg batch', 'ingest calls'],
    rows,
    notes: [
      'Baselines call converter.run and platform.ingest in a plain loop: no queue, no back-pressure, no outcome tracking.',
      'The coalesced case submits one message per call (like an MQTT connector); the pipeline batches what queues while the previous batch converts/stores.',
      'CPU µs/message: user + system time of the whole process (store writer thread included) and its converter sandbox processes, over the messages of the case.',
      `Scale ${SCALE} (TBI_BENCH_SCALE).`,
    ],
  }),
);
