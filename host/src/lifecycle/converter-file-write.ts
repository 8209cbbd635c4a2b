import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TbiError } from '@tbi/plugin-api';

/** A new converter source written next to its file, not yet in place. */
export interface StagedConverterFile {
  /** The converter file that `commit` replaces. */
  readonly file: string;
  /** Moves the new source into place (one `rename`: readers see the old file or the new one). */
  commit(): Promise<void>;
  /** Removes the staged copy; the converter file stays as it was. */
  discard(): Promise<void>;
}

const FIELD = { uplink: 'decoder', downlink: 'encoder' } as const;

/**
 * Writes `source` beside the converter `file` as a temporary file, so that the caller can swap the
 * running converter first and only then put the file in place — or drop it when the source does
 * not compile. A `.js` file gets the source as it is; a ThingsBoard export (`.json`) keeps its
 * other fields and gets the source as `configuration.decoder` (uplink) or `.encoder` (downlink).
 */
export async function stageConverterFile(file: string, kind: 'uplink' | 'downlink', source: string): Promise<StagedConverterFile> {
  let text = source;
  if (file.toLowerCase().endsWith('.json')) {
    try {
      const json = JSON.parse(await readFile(file, 'utf8')) as { configuration?: Record<string, unknown> };
      json.configuration = { ...json.configuration, [FIELD[kind]]: source };
      text = `${JSON.stringify(json, null, 2)}\n`;
    } catch (cause) {
      throw new TbiError('CONVERTER_WRITE_FAILED', `cannot write the ${kind} converter back into ${file}: ${(cause as Error).message}`, {
        cause,
        context: { file },
      });
    }
  }
  const staged = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(staged, text, { flag: 'wx' });
  } catch (cause) {
    throw new TbiError('CONVERTER_WRITE_FAILED', `cannot write the ${kind} converter file ${file}: ${(cause as Error).message}`, { cause, context: { file } });
  }
  return {
    file,
    commit: () => rename(staged, file),
    discard: () => rm(staged, { force: true }),
  };
}
