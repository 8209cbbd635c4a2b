import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@tbi/plugin-api';

// Stand-in for the plugin kit's PEM loader (issue 12); replace the import when it lands.
/** PEM text as it is; anything else is a file path (relative to `baseDir`) whose content is read. */
export function pemOrFile(value: string, field: string, baseDir = process.cwd()): string {
  if (value.includes('-----BEGIN')) return value;
  const file = path.resolve(baseDir, value);
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError({ path: field, expected: 'PEM text or the path of a readable PEM file', received: JSON.stringify(file), cause });
  }
}
