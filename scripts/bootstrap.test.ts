import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ROOT, runScript } from './test/run-script.js';
import { stubPnpm } from './test/stub-pnpm.js';

const sourceBootstrap = ['-c', `. '${ROOT}/scripts/bootstrap.sh'; echo "after bootstrap"`];

describe('scripts/bootstrap.sh', () => {
  it('keeps the install and build logs to itself when they work', async () => {
    const stub = await stubPnpm();
    try {
      const r = await runScript('/bin/bash', sourceBootstrap, stub.env);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('after bootstrap\n');
      expect(r.stderr).not.toContain('stub pnpm');
      expect(r.stderr).toMatch(/^\[bootstrap\] node v\d+\.\d+\.\d+, pnpm 12\.21\.0\n\[bootstrap\] workspace installed and built in \d+ s\n$/);
    } finally {
      await rm(stub.dir, { recursive: true, force: true });
    }
  });

  it("prints the captured log and exits with the step's code when the build fails", async () => {
    const stub = await stubPnpm({ failBuild: true });
    try {
      const r = await runScript('/bin/bash', sourceBootstrap, stub.env);
      expect(r.code).toBe(2);
      expect(r.stdout).not.toContain('after bootstrap');
      expect(r.stderr).toContain('[bootstrap] pnpm build failed (exit 2); its output:');
      expect(r.stderr).toContain("error TS2304: Cannot find name 'nope'.");
      // The install's log stays hidden: it worked.
      expect(r.stderr).not.toContain('stub pnpm install');
    } finally {
      await rm(stub.dir, { recursive: true, force: true });
    }
  });
});
