import { ConfigError, type StandardSchemaV1 } from '@tbi/plugin-api';
import { formatPath, type ConfigPath } from './format-path.js';

/** One issue, as a schema library reports it: a message and a path. */
export interface SchemaIssue {
  message: string;
  path?: ReadonlyArray<PropertyKey | StandardSchemaV1.PathSegment> | undefined;
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
}

/**
 * Several config problems at once. It is a `ConfigError` (the first problem's file, path and
 * expectation) whose message lists every problem, one a line, so a user fixes them in one go.
 */
export class InvalidConfigError extends ConfigError {
  readonly problems: ConfigError[];

  constructor(problems: ConfigError[]) {
    const first = problems[0] ?? new ConfigError({ path: '', expected: 'a valid configuration' });
    super({ file: first.file, path: first.path, expected: first.expected });
    this.problems = problems.length > 0 ? problems : [first];
    this.message = this.problems.map((p) => p.message).join('\n');
  }
}

/** Turns schema issues under `prefix` into ConfigErrors naming file:line, path and expectation. */
export function issuesToProblems(issues: readonly SchemaIssue[], prefix: ConfigPath, ctx: ProblemContext): ConfigError[] {
  return issues.map((issue) => {
    const path = [...prefix, ...(issue.path ?? []).map((p) => (typeof p === 'object' ? p.key : p))];
    const { expected } = splitMessage(issue.message);
    const actual = valueAt(ctx.tree, path);
    return new ConfigError({
      file: ctx.file === undefined ? undefined : ctx.file + ctx.locate(path),
      path: formatPath(path),
      expected,
      received: actual.found ? describe(actual.value, ctx.redact) : 'nothing',
    });
  });
}

/**
 * Schema libraries phrase issues differently ("Invalid input: expected number, received string",
 * "Too big: expected number to be <=65535"); keep what was expected, drop the library's preamble.
 */
function splitMessage(message: string): { expected: string; received?: string } {
  const m = /expected (.+?)(?:,? (?:but )?received (.+))?$/i.exec(message);
  if (m?.[1] !== undefined) return { expected: m[1], received: m[2] };
  // Messages already phrased as an expectation ("a URL path segment of …") are kept as they are.
  if (/^(a|an|one|the|exactly|at|no|only)\b/i.test(message)) return { expected: message };
  return { expected: `a valid value (${message})` };
}

function valueAt(tree: unknown, path: ConfigPath): { found: boolean; value?: unknown } {
  let node = tree;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key as string)) return { found: false };
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value: node };
}

function describe(value: unknown, redact: (text: string) => string): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  const text = redact(JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
