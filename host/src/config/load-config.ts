import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@tbi/plugin-api';
import { z } from 'zod';
import { coerceToSchema } from './coerce-to-schema.js';
import { hostConfigSchema, type HostConfig } from './config-schema.js';
import { InvalidConfigError, issuesToProblems } from './config-problems.js';
import type { ConfigPath } from './format-path.js';
import { interpolateEnv } from './interpolate-env.js';
import { createRedactor } from './redact.js';
import type { JsonSchema } from './schema-walk.js';
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
  /** How a number at a path was written in the file, if it came from one. */
  numberText?: (path: ConfigPath) => string | undefined;
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
  return resolveConfig(parsed.tree, { ...options, file, baseDir: path.dirname(absolute), locate: parsed.locate, numberText: parsed.numberText });
}

/**
 * Interpolates and validates an already parsed config tree (an object from a test or an API).
 * Throws an `InvalidConfigError` with every problem (unset variables and schema problems); its
 * `partial` is the config with the broken parts left out, so that later stages (plugins,
 * converters) can still report their own problems in the same run.
 */
export function resolveConfig(
  raw: unknown,
  options: ConfigOptions & {
    file?: string;
    baseDir?: string;
    locate?: (path: ConfigPath) => string;
    numberText?: (path: ConfigPath) => string | undefined;
  } = {},
): LoadedConfig {
  const env = options.env ?? process.env;
  const locate = options.locate ?? (() => '');
  const { file } = options;
  const baseDir = options.baseDir ?? options.cwd ?? process.cwd();
  const interpolated = interpolateEnv(raw ?? {}, env, file, locate);
  const numberText = options.numberText ?? (() => undefined);
  const tree = coerceToSchema(interpolated.value, hostJsonSchema(), numberText);
  const envToken = env.TBI_TOKEN === '' ? undefined : env.TBI_TOKEN;
  const redact = createRedactor(envToken === undefined ? interpolated.secrets : [...interpolated.secrets, envToken]);
  const finish = (config: HostConfig): LoadedConfig => {
    config.dataDir = path.resolve(baseDir, config.dataDir);
    if (config.http.tls) {
      config.http.tls = { cert: path.resolve(baseDir, config.http.tls.cert), key: path.resolve(baseDir, config.http.tls.key) };
    }
    return { config, file, baseDir, tree, locate, numberText, redact, token: config.auth.token ?? envToken };
  };
  const result = hostConfigSchema.safeParse(tree);
  const envProblems = interpolated.problems;
  if (result.success && envProblems.length === 0) return finish(result.data);

  const ctx = { file, tree, locate, redact, jsonSchema: hostJsonSchema() };
  const schemaProblems = result.success ? [] : issuesToProblems(result.error.issues, [], ctx);
  // A value whose variable is unset is reported once, as the unset variable.
  const envPaths = new Set(envProblems.map((p) => p.path));
  const problems = [...envProblems, ...schemaProblems.filter((p) => !envPaths.has(p.path))];
  // An unset variable inside a plugin's block leaves the integration in: its plugin still checks the rest.
  const envOutsidePlugins = envProblems.filter((p) => !/^integrations\[\d+\]\.config\b/.test(p.path));
  const partial = partialConfig(
    tree,
    [...envOutsidePlugins, ...schemaProblems].map((p) => p.path),
  );
  throw new InvalidConfigError(problems, partial && finish(partial));
}

/**
 * The config without the parts that have problems: a top-level section with a problem falls
 * back to its defaults, an integration with a problem is left out (a hole at its index, so
 * later stages keep its index in their paths). Undefined if even that does not validate.
 */
function partialConfig(tree: unknown, problemPaths: readonly string[]): HostConfig | undefined {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) return undefined;
  const rest: Record<string, unknown> = { ...(tree as Record<string, unknown>) };
  const badIntegrations = new Set<number>();
  for (const p of problemPaths) {
    const integration = /^integrations\[(\d+)\]/.exec(p);
    if (integration) badIntegrations.add(Number(integration[1]));
    else delete rest[/^[^.[]*/.exec(p)![0]];
  }
  const integrations = Array.isArray(rest.integrations) ? (rest.integrations as unknown[]) : [];
  const kept = integrations.map((_, i) => i).filter((i) => !badIntegrations.has(i));
  const result = hostConfigSchema.safeParse({ ...rest, integrations: kept.map((i) => integrations[i]) });
  if (!result.success) return undefined;
  const sparse: HostConfig['integrations'] = [];
  kept.forEach((original, j) => {
    sparse[original] = result.data.integrations[j]!;
  });
  sparse.length = integrations.length;
  return { ...result.data, integrations: sparse };
}

let hostSchemaCache: JsonSchema | undefined;
function hostJsonSchema(): JsonSchema {
  return (hostSchemaCache ??= z.toJSONSchema(hostConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema);
}
