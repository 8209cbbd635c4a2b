import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closingLine, END, START, summarize, updateReadme } from './test-report.mjs';

const root = '/repo';
const file = (name: string, tests: number) => ({ name: path.join(root, name), assertionResults: Array.from({ length: tests }, () => ({ status: 'passed' })) });
const results = {
  numPassedTests: 6,
  numFailedTests: 0,
  numPendingTests: 1,
  numTodoTests: 0,
  testResults: [
    file('plugins/mqtt/test/e2e.test.ts', 3),
    file('host/test/cli.test.ts', 2),
    file('packages/plugin-api/src/a.test.ts', 1),
    file('plugins/mqtt/src/b.test.ts', 1),
  ],
};
const README = `# x\n\nbefore\n${START}\nLast full run (old): 1 test files\n\n| folder | test files | tests | what the end-to-end part proves |\n|---|---|---|---|\n| \`plugins/mqtt\` | 9 | 99 | the four "nothing lost" counts |\n${END}\nafter\n`;

describe('scripts/test-report.mjs', () => {
  it('counts test files and tests per folder', () => {
    const s = summarize(results, root);
    expect(s).toMatchObject({ files: 4, passed: 6, failed: 0, skipped: 1 });
    expect(s.folders).toEqual([
      ['packages/plugin-api', { files: 1, tests: 1 }],
      ['host', { files: 1, tests: 2 }],
      ['plugins/mqtt', { files: 2, tests: 4 }],
    ]);
    expect(closingLine(s, 271)).toBe('tests: 6 passed, 0 failed, 1 skipped in 271 s');
  });

  it('rewrites only the block between the markers, with the new counts and the old prose', () => {
    const next = updateReadme(README, summarize(results, root), { wallSeconds: 271, testSeconds: 180, date: '2026-12-02', cores: 2, node: 'v24.21.0' });
    expect(next.startsWith('# x\n\nbefore\n')).toBe(true);
    expect(next.endsWith(`${END}\nafter\n`)).toBe(true);
    expect(next).toContain('Last full run (2026-12-02, 2 cores, Node v24.21.0): 4 test files, 6 tests passed,');
    expect(next).toContain('4 min 31 s from start to finish');
    expect(next).toContain('3 min 00 s of it in the tests');
    // Folders of the previous table first, in its order; new ones after, without prose yet.
    const rows = next.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows).toEqual(['| `plugins/mqtt` | 2 | 4 | the four "nothing lost" counts |', '| `packages/plugin-api` | 1 | 1 |  |', '| `host` | 1 | 2 |  |']);
    expect(next).not.toContain('(old)');
  });

  it('refuses a README without the markers', () => {
    expect(() => updateReadme('# no markers\n', summarize(results, root), { wallSeconds: 1, testSeconds: 1, date: 'd', cores: 1, node: 'v' })).toThrow(
      /test-run:start/,
    );
  });
});
