import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from './errors.js';

/** Where a PEM setting sits, for resolving a file and for the error if it cannot be read. */
export interface PemSource {
  /** Base of a relative path: pass `ctx.configDir`, as the host does for its own paths. */
  configDir: string;
  /** Path of the setting in the config, for the error, e.g. `config.tls.ca`. */
  path: string;
}

/**
 * Reads a TLS setting that holds either PEM text (it contains `-----BEGIN`) or the path of a
 * PEM file, relative to the config file's directory. Throws `ConfigError` naming the setting and
 * the resolved file when the file cannot be read.
 *
 * @example
 * const ca = config.tls.ca === undefined ? undefined : await loadPem(config.tls.ca, { configDir: ctx.configDir, path: 'config.tls.ca' });
 */
export async function loadPem(value: string, source: PemSource): Promise<Buffer> {
  if (value.includes('-----BEGIN')) return Buffer.from(value, 'utf8');
  const file = path.resolve(source.configDir, value);
  try {
    return await readFile(file);
  } catch (cause) {
    throw new ConfigError({ path: source.path, expected: 'PEM text or the path of a readable PEM file', received: JSON.stringify(file), cause });
  }
}
