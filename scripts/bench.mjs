#!/usr/bin/env node
// `pnpm bench`: runs every benchmark suite (any `bench/run.mjs` in packages/, plugins/, host/),
// each in its own process, and writes the results to docs/benchmarks.md with the machine and
// versions. A suite prints progress on stderr and, as the last line of stdout, one JSON object:
//   { "suite": "converter-sandbox", "title": "...", "description": "...",
//     "columns": ["case", "msg/s", ...], "rows": [["plain JS (baseline)", 123456, ...], ...],
//     "notes": ["..."] }
// A suite whose cases fall into groups also prints which groups it ran and the group of each row
// and note (scripts/bench-support.mjs `suiteResult`; a note of group "" is about the whole suite):
//   { ..., "cases": ["export"], "rowCases": ["export", ...], "noteCases": ["export", ..., ""] }
// `pnpm bench -- sandbox mqtt` runs only suites whose folder name contains one of the words; the
// other suites keep their last results (docs/benchmarks.json holds every suite's last result).
// `BENCH_CASES=replay,export pnpm bench -- rabbitmq kafka` runs only those case groups of the suites
// that have them (each suite's run.mjs lists its groups; default all): the rows and notes of the
// groups not run are kept from the suite's last result, with the date and machine they were measured on.
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
// --render writes the page as of the newest result (nothing was measured now).
const now = renderOnly
  ? (previous
      .map((p) => p.measuredAt ?? '')
      .sort()
      .at(-1) ?? '')
  : new Date().toISOString();
const cpus = os.cpus();
// Which machine measured a result: kept results may come from another VM (other CPU, other noise).
const machine = `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`;
for (const r of fresh) {
  r.measuredAt = now;
  r.machine = machine;
}
const results = [
  ...fresh.map((r) =>
    keepGroupsNotRun(
      r,
      previous.find((p) => p.suite === r.suite),
    ),
  ),
  ...previous.filter((p) => !fresh.some((r) => r.suite === p.suite)),
];
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

/**
 * A suite result that ran only some of its case groups (`cases`), completed with the rows and notes
 * of the other groups from its last result (same columns only), in the group order of the last
 * result with the new groups after; each group's date is in `caseMeasuredAt`.
 */
function keepGroupsNotRun(fresh, last) {
  if (fresh.failed || !Array.isArray(fresh.cases)) return fresh;
  const ran = new Set(fresh.cases);
  const caseMeasuredAt = Object.fromEntries(fresh.cases.map((c) => [c, fresh.measuredAt]));
  const caseMachine = Object.fromEntries(fresh.cases.map((c) => [c, fresh.machine]));
  if (last === undefined || last.failed) return { ...fresh, caseMeasuredAt, caseMachine };
  if (!Array.isArray(last.rowCases)) {
    // From before the suite had case groups: which group its rows belong to is not known.
    process.stderr.write(`${fresh.suite}: its last result has no case groups, so its rows are not kept\n`);
    return { ...fresh, caseMeasuredAt, caseMachine };
  }
  if (JSON.stringify(last.columns) !== JSON.stringify(fresh.columns)) {
    process.stderr.write(`${fresh.suite}: its columns changed, so the rows of the groups not run this time are dropped\n`);
    return { ...fresh, caseMeasuredAt, caseMachine };
  }
  const groupOf = (list, i) => list?.[i] ?? 'earlier';
  const keptRows = last.rows.map((row, i) => ({ row, group: groupOf(last.rowCases, i) })).filter((x) => !ran.has(x.group));
  const keptNotes = (last.notes ?? []).map((note, i) => ({ note, group: groupOf(last.noteCases, i) })).filter((x) => x.group !== '' && !ran.has(x.group));
  const freshRows = fresh.rows.map((row, i) => ({ row, group: fresh.rowCases[i] }));
  const freshNotes = (fresh.notes ?? []).map((note, i) => ({ note, group: fresh.noteCases?.[i] ?? '' }));
  const order = [...new Set([...keptRows.map((x) => x.group), ...(last.rowCases ?? []), ...fresh.rowCases, ...fresh.cases])];
  const byGroup = (a, b) => (a.group === '' ? 1 : 0) - (b.group === '' ? 1 : 0) || order.indexOf(a.group) - order.indexOf(b.group);
  const rows = [...keptRows, ...freshRows].sort(byGroup);
  const notes = [...keptNotes, ...freshNotes].sort(byGroup);
  for (const { group } of [...keptRows, ...keptNotes]) {
    caseMeasuredAt[group] ??= last.caseMeasuredAt?.[group] ?? last.measuredAt;
    const on = last.caseMachine?.[group] ?? last.machine;
    if (on !== undefined) caseMachine[group] ??= on;
  }
  return {
    ...fresh,
    cases: [...new Set([...keptRows.map((x) => x.group), ...fresh.cases])].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
    rows: rows.map((x) => x.row),
    rowCases: rows.map((x) => x.group),
    notes: notes.map((x) => x.note),
    noteCases: notes.map((x) => x.group),
    caseMeasuredAt,
    caseMachine,
  };
}

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
  const on = (m) => (m === machine ? '' : m === undefined ? ' on a machine not recorded' : ` on ${m}`);
  if (r.measuredAt && r.measuredAt !== now) lines.push(`_Measured ${r.measuredAt}${on(r.machine)} (not re-run since)._`, '');
  // Groups kept from an earlier run (BENCH_CASES), by the date (and machine) they were measured.
  const older = new Map();
  for (const [group, at] of Object.entries(r.caseMeasuredAt ?? {})) {
    if (at === r.measuredAt) continue;
    const when = `${at}${on(r.caseMachine?.[group])}`;
    older.set(when, [...(older.get(when) ?? []), group]);
  }
  for (const [when, groups] of older) lines.push(`_The ${groups.join(' and ')} rows: measured ${when} (not re-run since)._`, '');
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
