import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript } from '../test/run-script.js';

describe('scripts/brokers.sh status', () => {
  it('reports every broker, and exits 3 when any is down', async () => {
    // An empty state folder: no broker of this "run" is running.
    const state = await mkdtemp(path.join(tmpdir(), 'tbi-status-'));
    try {
      const r = await runScript('scripts/brokers.sh', ['status'], { TBI_BROKER_STATE_DIR: state });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('[kafka:default] not running');
      expect(r.stderr).toContain('[mosquitto:default] not running');
      expect(r.stderr).toContain('[brokers] not running: kafka mosquitto');
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});
