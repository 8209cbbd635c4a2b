import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tbiNodeFlags } from './host-process.js';

describe('tbiNodeFlags', () => {
  const bin = (firstLine: string) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tbi-bin-')), 'tbi.js');
    writeFileSync(file, `${firstLine}\nconsole.log(1);\n`);
    return file;
  };

  it("reads the Node.js flags of the executable's shebang", () => {
    expect(tbiNodeFlags(bin('#!/usr/bin/env -S node --no-node-snapshot --max-semi-space-size=4'))).toEqual(['--no-node-snapshot', '--max-semi-space-size=4']);
    expect(tbiNodeFlags(bin('#!/usr/bin/env node'))).toEqual([]);
    expect(tbiNodeFlags(bin('// no shebang'))).toEqual([]);
  });

  it('gives those of the installed @tbi/host', () => {
    expect(tbiNodeFlags()).toContain('--no-node-snapshot');
  });
});
