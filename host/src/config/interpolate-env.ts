import { ConfigError } from '@tbi/plugin-api';
import { formatPath, type ConfigPath } from './format-path.js';

/** `${env:NAME}` or `${env:NAME:-fallback}`; `$${...}` escapes a literal `${...}`. */
const REFERENCE = /\$?\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** The result of interpolating a parsed config tree. */
export interface Interpolated {
  value: unknown;
  /** Every value taken from the environment, so logs and dumps can mask them. */
  secrets: string[];
  /** One per reference to an unset variable (its string is left as written). */
  problems: ConfigError[];
}

/**
 * Replaces `${env:NAME}` references in every string of a parsed config tree. Each reference to an
 * unset variable without a fallback is a `ConfigError` naming the path (and line, via `locate`),
 * collected in `problems` so that every missing variable is named in one run.
 * Values stay strings: `port: ${env:PORT}` gives `"8080"`, and the schemas coerce where a number
 * is meant.
 *
 * @example
 * interpolateEnv({ auth: { token: '${env:TBI_TOKEN}' } }, { TBI_TOKEN: 's3cret' }, 'tbi.yaml')
 * // { value: { auth: { token: 's3cret' } }, secrets: ['s3cret'], problems: [] }
 */
export function interpolateEnv(tree: unknown, env: NodeJS.ProcessEnv, file: string | undefined, locate: (path: ConfigPath) => string = () => ''): Interpolated {
  const secrets = new Set<string>();
  const problems: ConfigError[] = [];
  const walk = (node: unknown, path: ConfigPath): unknown => {
    if (typeof node === 'string') return replace(node, path);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  const replace = (text: string, path: ConfigPath): string =>
    text.replace(REFERENCE, (match, name: string, fallback: string | undefined) => {
      if (match.startsWith('$$')) return match.slice(1);
      const value = env[name];
      if (value !== undefined && value !== '') {
        secrets.add(value);
        return value;
      }
      if (fallback !== undefined) return fallback;
      problems.push(
        new ConfigError({
          file: file === undefined ? undefined : file + locate(path),
          path: formatPath(path),
          expected: `the environment variable ${name} to be set (referenced as \${env:${name}})`,
        }),
      );
      return match;
    });
  const value = walk(tree, []);
  return { value, secrets: [...secrets], problems };
}
