#!/usr/bin/env node
// `pnpm bench`: runs every benchmark suite (any `bench/run.mjs` in packages/, plugins/, host/),
// each in its own process, and writes the results to docs/benchmarks.md with the machine and
// versions. A suite prints progress on stderr and, as the last line of stdout, one JSON object:
//   { "suite": "converter-sandbox", "title": "...", "description": "...",
//     "columns": ["case", "msg/s", ...], "rows": [["plain JS (baseline)", 123456, ...], ...],
//     "notes": ["..."] }
// `pnpm bench -- sandbox mqtt` runs only suites whose folder name contains one of the words; the
// other suites keep their last results (docs/benchmarks.json holds every suite's last result).
// `pnpm bench -- --render` runs nothing and rewrites docs/benchmarks.md from docs/benchmarks.json
// (after results measured on several branches were merged into it).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2).filter((a) => a !== '--');
const renderOnly = args.includes('--render');
const filters = args.filter((a) => a !== '--render');

function findSuites() {
  const dirs = [];
  for (const group of ['packages', 'plugins']) {
    const base = path.join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) dirs.push(path.join(base, name));
  }
  dirs.push(path.join(root, 'host'));
  return dirs
    .map((dir) => path.join(dir, 'bench', 'run.mjs'))
    .filter((file) => existsSync(file))
    .filter((file) => filters.length === 0 || filters.some((f) => path.relative(root, file).includes(f)));
}

function runSuite(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    process.stderr.write(`\n▶ ${path.relative(root, file)}\n`);
    const child = spawn(process.execPath, ['--expose-gc', file], { cwd: path.dirname(path.dirname(file)), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      try {
        const result = JSON.parse(last);
        process.stderr.write(`✔ ${result.suite} (${seconds} s)\n`);
        resolve(result);
      } catch {
        process.stderr.write(`✖ ${path.relative(root, file)} exited ${code} without a result (${seconds} s)\n`);
        resolve({ suite: path.relative(root, file), title: path.relative(root, file), failed: `exited with code ${code}`, columns: [], rows: [] });
      }
    });
  });
}

function version(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return 'not found';
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0];
}

function table(result) {
  if (result.failed) return `**Failed:** ${result.failed}\n`;
  const head = `| ${result.columns.join(' | ')} |\n|${result.columns.map(() => ' --- ').join('|')}|\n`;
  const fmt = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2)) : String(v));
  return `${head}${result.rows.map((row) => `| ${row.map(fmt).join(' | ')} |`).join('\n')}\n`;
}

const suites = renderOnly ? [] : findSuites();
if (suites.length === 0 && !renderOnly) {
  console.error('no benchmark suites found');
  process.exit(1);
}
const fresh = [];
for (const file of suites) fresh.push(await runSuite(file));

// Results of suites not run this time are kept from the last run, marked with their date.
const store = path.join(root, 'docs', 'benchmarks.json');
const previous = existsSync(store) ? JSON.parse(readFileSync(store, 'utf8')) : [];
const now = new Date().toISOString();
for (const r of fresh) r.measuredAt = now;
const results = [...fresh, ...previous.filter((p) => !fresh.some((r) => r.suite === p.suite))];
const order = [
  'converter-sandbox',
  'platform-embedded',
  'platform-thingsboard',
  'host-pipeline',
  'plugin-http',
  'plugin-mqtt',
  'plugin-kafka',
  'plugin-rabbitmq',
  'plugin-pulsar',
];
results.sort((a, b) => (order.indexOf(a.suite) + 1 || 99) - (order.indexOf(b.suite) + 1 || 99));

const cpus = os.cpus();
const lines = [
  '# Benchmarks',
  '',
  `Written by \`pnpm bench\` on ${now}. Every figure is measured against a baseline in the same run, because these machines are shared and noisy: compare ratios, not absolute numbers.`,
  '',
  '## Machine',
  '',
  `- CPU: ${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
  `- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; OS: ${os.type()} ${os.release()} ${os.arch()}`,
  `- Node.js ${process.version}; Java: ${version('java', ['-version'])}`,
  `- Mosquitto: ${version('mosquitto', ['-h']).replace(/^mosquitto version /, '')}`,
  '',
];
for (const r of results) {
  lines.push(`## ${r.title ?? r.suite}`, '');
  if (r.measuredAt && r.measuredAt !== now) lines.push(`_Measured ${r.measuredAt} (not re-run since)._`, '');
  if (r.description) lines.push(r.description, '');
  lines.push(table(r));
  for (const note of r.notes ?? []) lines.push(`- ${note}`);
  lines.push('');
}
mkdirSync(path.join(root, 'docs'), { recursive: true });
writeFileSync(path.join(root, 'docs', 'benchmarks.md'), lines.join('\n'));
writeFileSync(
  store,
  `${JSON.stringify(
    results.filter((r) => !r.failed),
    null,
    2,
  )}\n`,
);
console.error(`\nwrote docs/benchmarks.md (${fresh.length} suites run, ${results.length - fresh.length} kept from earlier runs)`);
process.exit(fresh.some((r) => r.failed) ? 1 : 0);
