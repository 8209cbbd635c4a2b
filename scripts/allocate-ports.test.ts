import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { portLayout } from './ports.mjs';
import { runScript } from './test/run-script.js';

// The variables the allocator exports, without the ones this test process inherited from
// scripts/test.sh (an inherited variable is kept as it is, by design).
const clean = Object.fromEntries([...portLayout().map((e) => [e.name, '']), ['TBI_TEST_PORT_BASE', '']]);
const claimed: string[] = [];
afterEach(() => {
  for (const dir of claimed.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function allocate(env: Record<string, string> = {}) {
  const r = await runScript('scripts/allocate-ports.mjs', [String(process.pid)], { ...clean, ...env });
  const vars = Object.fromEntries([...r.stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  if (vars.TBI_TEST_PORT_LOCK) claimed.push(vars.TBI_TEST_PORT_LOCK);
  return { ...r, vars };
}

describe('scripts/allocate-ports.mjs', () => {
  it('gives two runs started at once two disjoint blocks, one port per listener', async () => {
    const [a, b] = await Promise.all([allocate(), allocate()]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const ports = (r: typeof a) => portLayout().map((e) => Number(r.vars[e.name]));
    const pa = ports(a);
    const pb = ports(b);
    expect(new Set(pa).size).toBe(pa.length);
    expect(pa.every((p) => p >= 24_000 && p < 28_800)).toBe(true);
    expect(pa.some((p) => pb.includes(p))).toBe(false);
    // The shared listeners come first, in the order of ports.env, from the block's base.
    expect(Number(a.vars.MOSQUITTO_PLAIN_PORT)).toBe(Number(a.vars.TBI_TEST_PORT_BASE));
    expect(readFileSync(`${a.vars.TBI_TEST_PORT_LOCK}/pid`, 'utf8')).toBe(String(process.pid));
  });

  it('uses TBI_TEST_PORT_BASE when given, and refuses a block another run holds', async () => {
    const first = await allocate();
    const base = first.vars.TBI_TEST_PORT_BASE!;
    const again = await allocate({ TBI_TEST_PORT_BASE: base });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`TBI_TEST_PORT_BASE=${base}: another test run holds this block`));
    rmSync(first.vars.TBI_TEST_PORT_LOCK!, { recursive: true });
    const given = await allocate({ TBI_TEST_PORT_BASE: base });
    expect(given.code).toBe(0);
    expect(given.vars.MOSQUITTO_PLAIN_PORT).toBe(base);
    expect(existsSync(given.vars.TBI_TEST_PORT_LOCK!)).toBe(true);
  });

  it('keeps a port variable the environment already sets', async () => {
    const r = await allocate({ MOSQUITTO_TLS_PORT: '45999' });
    expect(r.vars.MOSQUITTO_TLS_PORT).toBe('45999');
  });
});
