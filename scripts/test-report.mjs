#!/usr/bin/env node
// The closing line of scripts/test.sh, and the README's record of the last full run:
//   node scripts/test-report.mjs <vitest-results.json> --wall-seconds N [--readme README.md]
// prints `tests: P passed, F failed, S skipped in N s` and, with --readme, rewrites what lies between
// `<!-- test-run:start -->` and `<!-- test-run:end -->`: the date, the counts, the wall time and a
// table of test files and tests per folder. The table's last column (what a folder's tests prove)
// is prose; it is kept from the previous table, row by row.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const START = '<!-- test-run:start -->';
export const END = '<!-- test-run:end -->';

/** The folder a test file counts under: `packages/x`, `plugins/x`, or the top-level folder. */
export function folderOf(file, root) {
  const parts = path.relative(root, file).split(path.sep);
  return ['packages', 'plugins'].includes(parts[0]) && parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** Counts of a vitest JSON report, in total and per folder (in first-seen order of a fixed sort). */
export function summarize(results, root) {
  const folders = new Map();
  for (const file of results.testResults) {
    const folder = folderOf(file.name, root);
    const row = folders.get(folder) ?? { files: 0, tests: 0 };
    row.files += 1;
    row.tests += file.assertionResults.length;
    folders.set(folder, row);
  }
  const order = (f) => (f.startsWith('packages/') ? 0 : f === 'host' ? 1 : f.startsWith('plugins/') ? 2 : 3);
  const sorted = [...folders.entries()].sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b));
  return {
    files: results.testResults.length,
    passed: results.numPassedTests,
    failed: results.numFailedTests,
    skipped: results.numPendingTests + results.numTodoTests,
    folders: sorted,
  };
}

export function closingLine(s, wallSeconds) {
  return `tests: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped in ${wallSeconds} s`;
}

function minutes(seconds) {
  const m = Math.floor(seconds / 60);
  return m === 0 ? `${seconds} s` : `${m} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/** The README with the block between the markers replaced; throws when the markers are missing. */
export function updateReadme(readme, s, { wallSeconds, testSeconds, date, cores, node }) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`the README has no ${START} … ${END} block`);
  const old = readme.slice(start, end);
  const prose = new Map();
  for (const line of old.split('\n')) {
    const m = /^\| `([^`]+)` \|[^|]*\|[^|]*\|(.*)\|\s*$/.exec(line);
    if (m) prose.set(m[1], m[2].trim());
  }
  // Folders keep the order of the previous table (it is curated); new ones follow.
  const known = [...prose.keys()];
  const rank = (f) => (known.includes(f) ? known.indexOf(f) : known.length);
  const folders = [...s.folders].sort(([a], [b]) => rank(a) - rank(b));
  const rows = folders.map(([folder, r]) => `| \`${folder}\` | ${r.files} | ${r.tests} | ${prose.get(folder) ?? ''} |`);
  const block = [
    START,
    `Last full run (${date}, ${cores} cores, Node ${node}): ${s.files} test files, ${s.passed} tests passed,`,
    `${s.failed} failed, ${s.skipped} skipped; ${minutes(wallSeconds)} from start to finish (install, build and`,
    `brokers included), ${minutes(testSeconds)} of it in the tests. Written by \`scripts/test.sh\` after`,
    'every full run that passes.',
    '',
    '| folder | test files | tests | what the end-to-end part proves |',
    '|---|---|---|---|',
    ...rows,
    '',
    '',
  ].join('\n');
  return readme.slice(0, start) + block + readme.slice(end);
}

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  const resultsFile = process.argv[2];
  const root = path.resolve(import.meta.dirname, '..');
  const wallSeconds = Number(arg('--wall-seconds') ?? 0);
  const testSeconds = Number(arg('--test-seconds') ?? 0);
  const readmeFile = arg('--readme');
  let s;
  try {
    s = summarize(JSON.parse(readFileSync(resultsFile, 'utf8')), root);
  } catch (e) {
    console.log(`tests: no results (${e.message.split('\n')[0]}) in ${wallSeconds} s`);
    process.exit(0);
  }
  if (readmeFile && s.failed === 0) {
    const readme = readFileSync(readmeFile, 'utf8');
    const date = new Date().toISOString().slice(0, 10);
    const next = updateReadme(readme, s, { wallSeconds, testSeconds, date, cores: os.availableParallelism(), node: process.version });
    if (next !== readme) writeFileSync(readmeFile, next);
    process.stderr.write(`[test] ${path.relative(process.cwd(), readmeFile)}: counts and timings of this run written\n`);
  }
  console.log(closingLine(s, wallSeconds));
}
