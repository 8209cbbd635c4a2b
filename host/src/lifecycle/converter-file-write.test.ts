import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stageConverterFile } from './converter-file-write.js';

describe('stageConverterFile', () => {
  it('puts a .js source in place only on commit, and leaves nothing behind on discard', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tbi-stage-'));
    const file = path.join(dir, 'up.js');
    await writeFile(file, 'old');
    const discarded = await stageConverterFile(file, 'uplink', 'never');
    await discarded.discard();
    expect(await readFile(file, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['up.js']);
    const staged = await stageConverterFile(file, 'uplink', 'new');
    expect(await readFile(file, 'utf8')).toBe('old');
    await staged.commit();
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['up.js']);
  });

  it("writes into a ThingsBoard export's decoder or encoder and keeps its other fields", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tbi-stage-'));
    const file = path.join(dir, 'converter.json');
    await writeFile(file, JSON.stringify({ name: 'Boiler', type: 'UPLINK', configuration: { decoder: 'old', scriptLang: 'JS' } }));
    await (await stageConverterFile(file, 'uplink', 'return {};')).commit();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ name: 'Boiler', type: 'UPLINK', configuration: { decoder: 'return {};', scriptLang: 'JS' } });
    await (await stageConverterFile(file, 'downlink', 'return 1;')).commit();
    expect(JSON.parse(await readFile(file, 'utf8')).configuration).toMatchObject({ decoder: 'return {};', encoder: 'return 1;' });
  });

  it('refuses a .json file that is not JSON, naming it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tbi-stage-'));
    const file = path.join(dir, 'broken.json');
    await writeFile(file, '{ not json');
    await expect(stageConverterFile(file, 'uplink', 'x')).rejects.toMatchObject({ code: 'CONVERTER_WRITE_FAILED', message: expect.stringContaining(file) });
  });
});
