import { ConfigError, type StandardSchemaV1, type TbiError } from '@tbi/plugin-api';
import { didYouMean } from './did-you-mean.js';
import { formatPath, type ConfigPath } from './format-path.js';
import type { LoadedConfig } from './load-config.js';
import { allowedKeys, enumValues, schemaAt, type JsonSchema } from './schema-walk.js';

/** One issue, as a schema library reports it: a message and a path (zod adds `code` and `keys`). */
export interface SchemaIssue {
  message: string;
  path?: ReadonlyArray<PropertyKey | StandardSchemaV1.PathSegment> | undefined;
  code?: unknown;
  keys?: unknown;
}

/** How to turn issues into errors that point into the file. */
export interface ProblemContext {
  /** The config file, as the user named it. */
  file: string | undefined;
  /** The parsed tree, to show what was received. */
  tree: unknown;
  /** `:line` of a path in the file, or ''. */
  locate: (path: ConfigPath) => string;
  /** Masks secrets in received values. */
  redact: (text: string) => string;
  /** JSON Schema of the tree under `prefix`, for allowed keys, enum values and descriptions. */
  jsonSchema?: JsonSchema | undefined;
}

/** A config problem whose sentence is not "expected …, received …" (an unknown or missing key). */
export class ConfigProblem extends ConfigError {
  constructor(details: { file?: string; path: string; expected: string; cause?: unknown }, sentence: string) {
    super(details);
    this.message = `${[details.file, details.path || '(root)'].filter(Boolean).join(': ')}: ${sentence}`;
  }
}

/** A required key that is not there. */
class MissingKeyProblem extends ConfigProblem {}

/**
 * Several config problems at once. It is a `ConfigError` (the first problem's file, path and
 * expectation) whose message lists every problem, one a line and in the order of the file, so a
 * user fixes them in one go. Problems may be of any stage: schema, environment, plugins, converters.
 */
export class InvalidConfigError extends ConfigError {
  readonly problems: TbiError[];
  /**
   * The config with the broken parts left out (integrations with problems are holes in
   * `config.integrations`), for the later stages to check in the same run; undefined if none.
   */
  readonly partial: LoadedConfig | undefined;

  constructor(problems: readonly TbiError[], partial?: LoadedConfig) {
    const sorted = sortByLine(problems);
    const first = sorted.find((p): p is ConfigError => p instanceof ConfigError) ?? new ConfigError({ path: '', expected: 'a valid configuration' });
    super({ file: first.file, path: first.path, expected: first.expected });
    this.problems = sorted.length > 0 ? sorted : [first];
    this.partial = partial;
    this.message = this.problems.map((p) => p.message).join('\n');
  }
}

/** The line a problem's message points at (`tbi.yaml:12: …`), or Infinity. */
export function lineOf(problem: TbiError): number {
  const m = /^[^\n]*?:(\d+)(?::\d+)?: /.exec(problem.message);
  return m ? Number(m[1]) : Number.POSITIVE_INFINITY;
}

/** Problems in the order of the file (stable for equal lines), each message once. */
export function sortByLine(problems: readonly TbiError[]): TbiError[] {
  const seen = new Set<string>();
  const flat = problems.flatMap((p) => (p instanceof InvalidConfigError ? p.problems : [p]));
  return flat
    .map((p, i) => ({ p, i, line: lineOf(p) }))
    .sort((a, b) => a.line - b.line || a.i - b.i)
    .map((x) => x.p)
    .filter((p) => {
      if (seen.has(p.message)) return false;
      seen.add(p.message);
      return true;
    });
}

/**
 * Turns schema issues under `prefix` into ConfigErrors naming file:line, path and expectation.
 * A required key that an unknown key's suggestion names is not reported twice: "did you mean
 * bootstrapServers?" says it.
 */
export function issuesToProblems(issues: readonly SchemaIssue[], prefix: ConfigPath, ctx: ProblemContext): ConfigError[] {
  const suggested = new Set<string>();
  const found = issues.flatMap((issue) => {
    const inner = (issue.path ?? []).map((p) => (typeof p === 'object' ? p.key : p));
    const unknown = unknownKeys(issue);
    if (!unknown) return [valueProblem(issue, inner, prefix, ctx)];
    return unknown.map((key) => {
      const { problem, guess } = unknownKeyProblem([...inner, key], prefix, ctx);
      if (guess !== undefined) suggested.add(formatPath([...prefix, ...inner, guess]));
      return problem;
    });
  });
  return found.filter((p) => !(p instanceof MissingKeyProblem && suggested.has(p.path)));
}

function where(path: ConfigPath, ctx: ProblemContext): { file: string | undefined; path: string } {
  return { file: ctx.file === undefined ? undefined : ctx.file + ctx.locate(path), path: formatPath(path) };
}

function unknownKeys(issue: SchemaIssue): string[] | undefined {
  if (issue.code === 'unrecognized_keys' && Array.isArray(issue.keys)) return issue.keys.map(String);
  const m = /^Unrecognized keys?: (.+)$/.exec(issue.message);
  return m ? [...m[1]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((k) => k[1]!) : undefined;
}

function unknownKeyProblem(inner: ConfigPath, prefix: ConfigPath, ctx: ProblemContext): { problem: ConfigError; guess: string | undefined } {
  const key = String(inner.at(-1));
  const path = [...prefix, ...inner];
  const allowed = ctx.jsonSchema ? allowedKeys(ctx.jsonSchema, inner.slice(0, -1)) : undefined;
  const guess = allowed ? didYouMean(key, allowed) : undefined;
  const hint = guess !== undefined ? ` — did you mean "${guess}"?` : allowed && allowed.length > 0 ? ` (allowed here: ${allowed.join(', ')})` : '';
  return { problem: new ConfigProblem({ ...where(path, ctx), expected: 'no such key' }, `unknown key "${key}"${hint}`), guess };
}

function valueProblem(issue: SchemaIssue, inner: ConfigPath, prefix: ConfigPath, ctx: ProblemContext): ConfigError {
  const path = [...prefix, ...inner];
  const at = where(path, ctx);
  const alternatives = ctx.jsonSchema ? schemaAt(ctx.jsonSchema, inner) : [];
  const actual = valueAt(ctx.tree, path);
  // The schema's enum says what is allowed better than a library's "Invalid input", but only
  // when the value is not one of them (a refinement at the same place is about something else).
  const allowed = issue.code === 'custom' ? undefined : enumValues(alternatives);
  const values = allowed?.some((v) => actual.found && String(v) === String(actual.value)) ? undefined : allowed;
  const expected = values ? oneOf(values) : splitMessage(issue.message);
  if (!actual.found && issue.code !== 'custom' && parentIsObject(ctx.tree, path)) {
    const description = alternatives.map((s) => s.description).find((d): d is string => typeof d === 'string');
    const what = values
      ? `: expected ${expected}`
      : description
        ? ` (${description.replace(/\.$/, '')})`
        : expected.startsWith('a valid value')
          ? ''
          : `: expected ${expected}`;
    return new MissingKeyProblem({ ...at, expected }, `required${what}`);
  }
  return new ConfigError({ ...at, expected, received: actual.found ? describe(actual.value, ctx.redact) : 'nothing' });
}

/** `0, 1 or 2`; strings quoted; a value given both as number and string is listed once. */
function oneOf(values: readonly unknown[]): string {
  const byText = new Map<string, unknown>();
  for (const v of values) if (!byText.has(String(v)) || typeof v !== 'string') byText.set(String(v), v);
  const shown = [...byText.values()].map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v)));
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
}

/**
 * Schema libraries phrase issues differently ("Invalid input: expected number, received string",
 * "Too big: expected number to be <=65535"); keep what was expected, drop the library's preamble.
 */
function splitMessage(message: string): string {
  const m = /expected (.+?)(?:,? (?:but )?received (.+))?$/i.exec(message);
  if (m?.[1] !== undefined) return m[1];
  // Messages already phrased as an expectation ("a URL path segment of …") are kept as they are.
  if (/^(a|an|one|the|exactly|at|no|only|either)\b/i.test(message)) return message;
  return `a valid value (${message})`;
}

function valueAt(tree: unknown, path: ConfigPath): { found: boolean; value?: unknown } {
  let node = tree;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key as string)) return { found: false };
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return { found: node !== undefined, value: node };
}

function parentIsObject(tree: unknown, path: ConfigPath): boolean {
  if (path.length === 0) return false;
  const parent = valueAt(tree, path.slice(0, -1));
  return parent.found && typeof parent.value === 'object' && parent.value !== null && !Array.isArray(parent.value);
}

function describe(value: unknown, redact: (text: string) => string): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  const text = redact(JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
