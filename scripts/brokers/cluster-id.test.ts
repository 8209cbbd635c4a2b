import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, runScript } from '../test/run-script.js';

describe('the KRaft cluster id of scripts/brokers/kafka.sh', () => {
  const lib = path.join(ROOT, 'scripts/brokers/lib/cluster-id.sh');
  const bash = (script: string) => promisify(execFile)('bash', ['-c', `. '${lib}'; ${script}`], { maxBuffer: 1 << 20 });

  it('draws again when a draw starts with "-" (one draw in 64 did, and broke the format)', async () => {
    // The first two draws start with "-", the third does not.
    const { stdout } = await bash(
      `n=0; draw_uuid() { n=$(( $(cat "$COUNT" 2>/dev/null || echo 0) + 1 )); echo $n > "$COUNT"; if [ $n -lt 3 ]; then echo "-AbCdEfGhIjKlMnOpQrSt$n"; else echo "AbCdEfGhIjKlMnOpQrStU$n"; fi; }; COUNT=$(mktemp); new_cluster_id; rm -f "$COUNT"`,
    );
    expect(stdout).toBe('AbCdEfGhIjKlMnOpQrStU3\n');
  });

  it('makes 22-character base64url ids', async () => {
    const { stdout } = await bash('for i in $(seq 100); do new_cluster_id; done');
    const ids = stdout.trim().split('\n');
    expect(ids).toHaveLength(100);
    expect(ids.every((id) => /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(100);
  });

  it('formats a data folder even with a given id that starts with "-"', async () => {
    const state = await mkdtemp(path.join(tmpdir(), 'tbi-kafka-format-'));
    try {
      const id = '-AbCdEfGhIjKlMnOpQrStU';
      const r = await runScript(
        'scripts/brokers/kafka.sh',
        ['format'],
        { TBI_BROKER_STATE_DIR: state, KAFKA_INSTANCE: 'format-test', KAFKA_CLUSTER_ID: id },
        120_000,
      );
      expect(r.stderr).toContain(`(cluster ${id})`);
      expect(r.code).toBe(0);
      expect(await readFile(path.join(state, 'kafka/format-test/log/meta.properties'), 'utf8')).toContain(`cluster.id=${id}`);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  }, 120_000);
});
