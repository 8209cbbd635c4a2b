#!/usr/bin/env node
// Gives one test run its own block of loopback ports, so two runs can share a machine:
//   eval "$(node scripts/allocate-ports.mjs <owner-pid>)"
// prints `export NAME=port` for every entry of scripts/ports.env (in file order, from the block's
// base), plus TBI_TEST_PORT_BASE and TBI_TEST_PORT_LOCK. The base is TBI_TEST_PORT_BASE when set,
// else a random free block in 24000-28799: away from the defaults in ports.env, and below Linux's
// ephemeral ports (32768-60999), so no client socket of the run can take one of them while a test
// restarts its broker. A block is claimed by creating /tmp/tbi-test-ports/<base> (mkdir is atomic),
// so two runs starting at the same moment never pick the same one; the owner removes it at exit,
// and a claim whose owner process is gone is taken over. Variables already set in the environment
// are kept as they are.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { portLayout } from './ports.mjs';

const LOCKS = path.join(os.tmpdir(), 'tbi-test-ports');
const FIRST = 24_000;
const LAST = 28_799;

const owner = Number(process.argv[2] ?? process.ppid);
const layout = portLayout();
const width = layout.reduce((sum, e) => sum + e.width, 0);
const step = Math.ceil(width / 100) * 100;

function bindable(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Claims the block at `base` for `owner`, or says why not. */
function claim(base) {
  const dir = path.join(LOCKS, String(base));
  mkdirSync(LOCKS, { recursive: true });
  try {
    mkdirSync(dir);
  } catch {
    let holder = NaN;
    try {
      holder = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
    } catch {
      /* being written */
    }
    if (Number.isNaN(holder) || alive(holder)) return undefined;
    rmSync(dir, { recursive: true, force: true });
    try {
      mkdirSync(dir);
    } catch {
      return undefined;
    }
  }
  writeFileSync(path.join(dir, 'pid'), String(owner));
  return dir;
}

async function allFree(base) {
  for (let p = base; p < base + width; p++) if (!(await bindable(p))) return false;
  return true;
}

async function pick() {
  const given = process.env.TBI_TEST_PORT_BASE;
  if (given) {
    const base = Number(given);
    if (!Number.isInteger(base) || base < 1024 || base + width > 65536)
      throw new Error(`TBI_TEST_PORT_BASE=${given}: expected a port from 1024 to ${65536 - width}`);
    const lock = claim(base);
    if (!lock) throw new Error(`TBI_TEST_PORT_BASE=${base}: another test run holds this block (${path.join(LOCKS, String(base))})`);
    if (!(await allFree(base))) {
      rmSync(lock, { recursive: true, force: true });
      throw new Error(`TBI_TEST_PORT_BASE=${base}: some of ports ${base}-${base + width - 1} are in use`);
    }
    return { base, lock };
  }
  const bases = [];
  for (let b = FIRST; b + width - 1 <= LAST; b += step) bases.push(b);
  bases.sort(() => Math.random() - 0.5);
  for (const base of bases) {
    const lock = claim(base);
    if (!lock) continue;
    if (await allFree(base)) return { base, lock };
    rmSync(lock, { recursive: true, force: true });
  }
  throw new Error(`no free block of ${width} ports in ${FIRST}-${LAST}`);
}

try {
  const { base, lock } = await pick();
  const lines = [`export TBI_TEST_PORT_BASE=${base}`, `export TBI_TEST_PORT_LOCK=${lock}`];
  let offset = 0;
  for (const entry of layout) {
    const set = process.env[entry.name];
    lines.push(`export ${entry.name}=${set ? Number(set) : base + offset}`);
    offset += entry.width;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} catch (e) {
  process.stderr.write(`allocate-ports: ${e.message}\n`);
  process.exit(1);
}
