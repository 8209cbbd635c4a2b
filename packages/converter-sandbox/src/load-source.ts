import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConverterError } from '@tbi/plugin-api';

/** Where a converter's source comes from: inline text or a file (JS, or a ThingsBoard export). */
export interface ConverterSourceSpec {
  inline?: string;
  file?: string;
}

/** Largest converter file read unless the caller says otherwise: converters are scripts, not data. */
export const DEFAULT_MAX_SOURCE_BYTES = 1_048_576;

/** Options of `loadConverterSource`. */
export interface LoadSourceOptions {
  /** Larger files are refused before they are read; default `DEFAULT_MAX_SOURCE_BYTES` (1 MiB). */
  maxBytes?: number;
}

const FIELD = { uplink: 'decoder', downlink: 'encoder' } as const;
const TB_TYPE = { uplink: 'UPLINK', downlink: 'DOWNLINK' } as const;

function fail(message: string, file?: string, cause?: unknown): ConverterError {
  return new ConverterError('COMPILE', message, { cause, context: file === undefined ? {} : { file } });
}

/**
 * Reads a converter's source. `inline` is the function body itself; `file` is a `.js` file
 * holding the body, or a ThingsBoard converter export (`.json`) whose `configuration.decoder`
 * (uplink) or `configuration.encoder` (downlink) is used as is. Relative paths resolve against
 * `baseDir` (usually the config file's directory). TBEL converters are refused: tbi runs
 * JavaScript only. Only regular files up to `maxBytes` are read (`/dev/zero` or a FIFO would
 * never end). Every problem is a `ConverterError` of kind COMPILE naming the file.
 *
 * @example
 * const { source, origin } = await loadConverterSource({ file: 'converters/uplink.json' }, 'uplink', '/etc/tbi');
 */
export async function loadConverterSource(
  spec: ConverterSourceSpec,
  kind: 'uplink' | 'downlink',
  baseDir: string,
  options: LoadSourceOptions = {},
): Promise<{ source: string; origin: string }> {
  const hasInline = typeof spec.inline === 'string';
  const hasFile = typeof spec.file === 'string' && spec.file !== '';
  if (hasInline === hasFile) {
    throw fail(`a ${kind} converter needs exactly one of "inline" (the source) or "file" (a path)`);
  }
  if (hasInline) return { source: spec.inline as string, origin: 'inline' };

  const file = path.resolve(baseDir, spec.file as string);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SOURCE_BYTES;
  let text: string;
  try {
    // stat first: reading is what must not happen for a device, a FIFO or a huge file.
    const info = await stat(file);
    if (info.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
    if (!info.isFile()) throw fail(`cannot read the ${kind} converter ${file}: it is not a regular file`, file);
    if (info.size > maxBytes)
      throw fail(`the ${kind} converter ${file} has ${info.size} bytes, more than the limit of ${maxBytes} (converters.maxSourceBytes)`, file);
    const bytes = await readFile(file);
    if (bytes.length > maxBytes) throw fail(`the ${kind} converter ${file} has more than the limit of ${maxBytes} bytes (converters.maxSourceBytes)`, file);
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof ConverterError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw fail(`cannot read the ${kind} converter ${file}: ${why}`, file, error);
  }
  text = text.replace(/^\uFEFF/, '');
  if (!file.toLowerCase().endsWith('.json')) return { source: text, origin: file };
  return fromThingsBoardExport(text, kind, file);
}

function fromThingsBoardExport(text: string, kind: 'uplink' | 'downlink', file: string): { source: string; origin: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw fail(`${file} is not valid JSON (${(error as Error).message}); a .json converter must be a ThingsBoard converter export`, file, error);
  }
  const exported = json as { name?: unknown; type?: unknown; configuration?: Record<string, unknown> } | null;
  const config = exported?.configuration;
  if (typeof config !== 'object' || config === null) {
    throw fail(`${file} is not a ThingsBoard converter export: it has no "configuration" object`, file);
  }
  const label = typeof exported?.name === 'string' ? ` "${exported.name}"` : '';
  if (typeof exported?.type === 'string' && exported.type !== TB_TYPE[kind]) {
    throw fail(`${file}: the ThingsBoard converter${label} is of type ${exported.type}, but it is used as the ${kind} converter`, file);
  }
  if (typeof config.scriptLang === 'string' && config.scriptLang.toUpperCase() === 'TBEL') {
    throw fail(
      `${file}: the ThingsBoard converter${label} is written in TBEL (configuration.scriptLang = "TBEL"); tbi runs JavaScript converters only. ` +
        'In ThingsBoard, switch the converter to JavaScript and export it again, or rewrite it in JavaScript.',
      file,
    );
  }
  const source = config[FIELD[kind]];
  if (typeof source !== 'string' || source.trim() === '') {
    throw fail(`${file}: the ThingsBoard converter${label} has no JavaScript source in configuration.${FIELD[kind]}`, file);
  }
  return { source, origin: `${file} (ThingsBoard export${label})` };
}
