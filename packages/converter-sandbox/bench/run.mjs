#!/usr/bin/env node
// Converter sandbox benchmark (protocol: scripts/bench.mjs — progress on stderr, one JSON line on
// stdout). Build first: `pnpm --filter @tbi/converter-sandbox build`.
//
// Converts the seed's MQTT example (decodeToJson, then deviceName/deviceType/telemetry) and
// compares every sandbox mode with the same converter run as plain JavaScript in the host: same
// helper functions, payload bytes turned into an Array the same way, same output normalisation.
import os from 'node:os';
import { createConverterSandbox, normaliseUplinkOutput, HELPER_NAMES } from '../dist/index.js';
import { HELPERS_SOURCE } from '../dist/runtime/helpers-source.js';

const SOURCE =
  "var data = decodeToJson(payload); return {deviceName: data.serial, deviceType: 'sensor', telemetry: {temperature: data.temperature, humidity: data.humidity}};";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const loadAtStart = os.loadavg()[0];
const encoder = new TextEncoder();

const messages = Array.from({ length: 1000 }, (_, i) => {
  const serial = `SN-${String(i).padStart(6, '0')}`;
  return {
    payload: encoder.encode(JSON.stringify({ serial, temperature: 20 + (i % 100) / 10, humidity: 40 + (i % 50) / 10 })),
    metadata: { topic: `sensors/${serial}/data`, integrationName: 'mqtt' },
    receivedAt: 1_700_000_000_000 + i,
  };
});

function log(text) {
  process.stderr.write(`  ${text}\n`);
}

/** Runs `step` (converting `perStep` messages) for SECONDS after a short warm-up; messages per second. */
async function measure(name, perStep, step) {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) await step();
  let count = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  while (performance.now() < until) {
    await step();
    count += perStep;
  }
  const rate = count / ((performance.now() - started) / 1000);
  log(`${name}: ${Math.round(rate).toLocaleString('en-US')} msg/s`);
  return rate;
}

function plainConverter() {
  const helpers = new Function(`${HELPERS_SOURCE}\nreturn { ${HELPER_NAMES.map((n) => `${n}: ${n}`).join(', ')} };`)();
  const factory = new Function(...HELPER_NAMES, `return function Decoder(payload, metadata) {\n${SOURCE}\n};`);
  return factory(...HELPER_NAMES.map((n) => helpers[n]));
}

const rows = [];
const decoder = plainConverter();
let cursor = 0;
const next = () => messages[cursor++ % messages.length];

const baseline = await measure('plain JS in the host (baseline)', 100, async () => {
  for (let i = 0; i < 100; i++) {
    const m = next();
    const payload = new Array(m.payload.length);
    for (let j = 0; j < payload.length; j++) payload[j] = m.payload[j];
    const result = normaliseUplinkOutput(decoder(payload, m.metadata), m.receivedAt);
    if (!result.ok) throw new Error(result.error.message);
  }
});
rows.push(['plain JS in the host (baseline)', Math.round(baseline), 100]);

/**
 * `inFlight` batches are kept running at all times (as a connector with several partitions or a
 * prefetch window does), so the host decodes one batch while the isolates convert the next.
 */
async function sandboxCase(name, poolSize, batchSize, inFlight = 1) {
  const sandbox = createConverterSandbox({ poolSize, defaultLimits: { timeoutMs: 1000 } });
  try {
    const converter = await sandbox.uplink('bench', SOURCE);
    const batches = [];
    for (let i = 0; i < messages.length; i += batchSize) batches.push(messages.slice(i, i + batchSize));
    let b = 0;
    const check = (results) => {
      if (!results[0]?.ok) throw new Error(JSON.stringify(results[0]));
    };
    const pending = new Set();
    const launch = () => {
      const p = converter.run(batches[b++ % batches.length]).then(check);
      pending.add(p);
      p.finally(() => pending.delete(p));
      return p;
    };
    const rate = await measure(name, batchSize, async () => {
      while (pending.size < inFlight) launch();
      await Promise.race(pending);
    });
    await Promise.all(pending);
    rows.push([name, Math.round(rate), Number(((rate / baseline) * 100).toFixed(1))]);
  } finally {
    await sandbox.dispose();
  }
}

await sandboxCase('sandbox, one call per message', 1, 1);
await sandboxCase('sandbox, batches of 100 (1 isolate)', 1, 100);
await sandboxCase('sandbox, batches of 1000 (1 isolate)', 1, 1000);
await sandboxCase('sandbox, batches of 1000 split over 2 isolates', 2, 1000);
await sandboxCase('sandbox, batches of 100, 4 in flight (2 isolates)', 2, 100, 4);
await sandboxCase('sandbox, batches of 1000, 2 in flight (2 isolates)', 2, 1000, 2);

const batched = rows.filter((r) => r[0].includes('batches of'));
const best = Math.max(...batched.map((r) => r[2]));
console.log(
  JSON.stringify({
    suite: 'converter-sandbox',
    title: 'Converter sandbox: uplink conversions per second',
    description:
      'The seed MQTT converter (`decodeToJson`, then deviceName/deviceType/telemetry) on JSON payloads of about 60 bytes. ' +
      'Baseline: the same converter and helpers as plain JavaScript in the host, with the same payload-to-Array step and output normalisation. ' +
      'Sandbox rows include everything a connector pays: copying payloads into the isolate, the batch loop there, JSON back, validation.',
    columns: ['case', 'msg/s', '% of plain JS'],
    rows,
    notes: [
      `Best batched rate: ${best}% of plain JS (goal: at least 50%).`,
      `Measured ${SECONDS} s per case after a 0.3 s warm-up on ${os.availableParallelism()} cores; default limits (64 MiB) with a 1 s time limit per call.`,
      'Batches of 64 messages or more are split across the isolates of a converter (poolSize, default 2) and run on separate threads; ' +
        'the rows with 2 isolates need 3 busy threads (host + 2 isolates), so they gain only when cores are free.',
      `Load average when the suite started: ${loadAtStart.toFixed(2)} (other processes share these cores).`,
    ],
  }),
);
