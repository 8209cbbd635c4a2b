import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@tbi/plugin-api';
import { hostConfigSchema, type HostConfig } from './config-schema.js';
import { InvalidConfigError, issuesToProblems } from './config-problems.js';
import type { ConfigPath } from './format-path.js';
import { interpolateEnv } from './interpolate-env.js';
import { createRedactor } from './redact.js';
import { parseSource } from './source-positions.js';

/** A validated configuration and what is needed to report on it later. */
export interface LoadedConfig {
  config: HostConfig;
  /** The config file as the user named it (for messages), or undefined for an in-memory config. */
  file: string | undefined;
  /** Relative paths in the config (converters, dataDir, TLS files, local plugins) start here. */
  baseDir: string;
  /** The interpolated tree before defaults, to show received values in plugin config errors. */
  tree: unknown;
  /** `:line` of a path in the file, '' when unknown. */
  locate: (path: ConfigPath) => string;
  /** Masks every value taken from the environment. */
  redact: (text: string) => string;
  /** The token the control API requires (`auth.token` or env `TBI_TOKEN`), if any. */
  token: string | undefined;
}

/** Options of `loadConfig`/`resolveConfig`. */
export interface ConfigOptions {
  /** Variables for `${env:NAME}`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where a relative config path is resolved from; default `process.cwd()`. */
  cwd?: string;
}

/**
 * Reads, interpolates and validates a YAML or JSON config file. Every problem is reported with
 * the file, line and path, in one `InvalidConfigError`.
 *
 * @example
 * const { config } = await loadConfig('tbi.yaml');
 */
export async function loadConfig(file: string, options: ConfigOptions = {}): Promise<LoadedConfig> {
  const absolute = path.resolve(options.cwd ?? process.cwd(), file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : String(cause);
    throw new ConfigError({ file, path: '', expected: `a readable config file (${reason})`, cause });
  }
  const parsed = parseSource(text, file);
  return resolveConfig(parsed.tree, { ...options, file, baseDir: path.dirname(absolute), locate: parsed.locate });
}

/**
 * Interpolates and validates an already parsed config tree (an object from a test or an API).
 */
export function resolveConfig(
  raw: unknown,
  options: ConfigOptions & { file?: string; baseDir?: string; locate?: (path: ConfigPath) => string } = {},
): LoadedConfig {
  const env = options.env ?? process.env;
  const locate = options.locate ?? (() => '');
  const { file } = options;
  const baseDir = options.baseDir ?? options.cwd ?? process.cwd();
  const { value: tree, secrets } = interpolateEnv(raw ?? {}, env, file, locate);
  const envToken = env.TBI_TOKEN === '' ? undefined : env.TBI_TOKEN;
  const redact = createRedactor(envToken === undefined ? secrets : [...secrets, envToken]);
  const result = hostConfigSchema.safeParse(tree);
  if (!result.success) {
    throw new InvalidConfigError(issuesToProblems(result.error.issues, [], { file, tree, locate, redact }));
  }
  const config = result.data;
  config.dataDir = path.resolve(baseDir, config.dataDir);
  if (config.http.tls) {
    config.http.tls = { cert: path.resolve(baseDir, config.http.tls.cert), key: path.resolve(baseDir, config.http.tls.key) };
  }
  return { config, file, baseDir, tree, locate, redact, token: config.auth.token ?? envToken };
}
