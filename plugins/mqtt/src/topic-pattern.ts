import { ConfigError } from '@tbi/plugin-api';
import { stripShare } from './topic-filter.js';

/** A pattern compiled once and rendered per message. */
export type CompiledPattern = (vars: PatternVariables) => string | undefined;

/** What a pattern can refer to. */
export interface PatternVariables {
  /**
   * The message topic: `${topic}` is all of it, `${topic[1]}` its second level, `${topic[-1]}`
   * its last, `${topic[1:3]}` levels 1 and 2 joined with `-` (`${topic[1:3|/]}` joins with `/`).
   */
  topic?: string;
  /** Any other `${name}`; keys may contain dots (`${metadata.key}` looks up `metadata.key`, then `key`). */
  values?: Readonly<Record<string, string | undefined>>;
}

/**
 * Where a pattern is used. `uplink` patterns (device name and type) see only the topic, so any
 * other name is a mistake; `downlink` patterns see the converter's metadata, whose keys are free.
 */
export type PatternScope = 'uplink' | 'downlink';

/** The separator of a level range without `|`: ThingsBoard's table shows `floor1-room2`. */
export const DEFAULT_RANGE_SEPARATOR = '-';

type Placeholder =
  | { kind: 'topic' }
  | { kind: 'level'; index: number }
  | { kind: 'range'; start: number | undefined; end: number | undefined; separator: string }
  | { kind: 'value'; name: string };

type Part = string | ((vars: PatternVariables, levels: () => string[]) => string | undefined);

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const TOPIC_LEVEL = /^topic\[(-?\d+)\]$/;
const TOPIC_RANGE = /^topic\[(-?\d+)?:(-?\d+)?(?:\|([^\]]*))?\]$/;
const TOPIC_FORMS =
  '${topic}, ${topic[i]} (0 is the first level, -1 the last) or ${topic[i:j]} (levels i to j-1 joined with "-"; ${topic[i:j|/]} joins with "/")';

/**
 * Compiles a ThingsBoard-style pattern such as `${topic[1]}`, `${topic[1:3]}` or
 * `devices/${deviceName}/commands`. Rendering returns `undefined` when a placeholder has no
 * value, so the caller can tell "no value" from an empty string. A malformed placeholder, or one
 * that cannot resolve in `scope` (when given), is a `ConfigError` naming `path`.
 *
 * @example
 * compilePattern('${topic[1]}')({ topic: 'sensors/device1/telemetry' }) // 'device1'
 * compilePattern('${topic[1:3]}')({ topic: 'building/floor1/room2/temp' }) // 'floor1-room2'
 */
export function compilePattern(pattern: string, path = 'pattern', scope?: PatternScope): CompiledPattern {
  const parsed = parsePattern(pattern, scope);
  if (typeof parsed === 'string') throw new ConfigError({ path, expected: parsed, received: JSON.stringify(pattern) });
  const parts = parsed.map((p) => (typeof p === 'string' ? p : render(p)));
  return (vars) => {
    let levels: string[] | undefined;
    const split = () => (levels ??= (vars.topic ?? '').split('/'));
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const value = part(vars, split);
      if (value === undefined) return undefined;
      out += value;
    }
    return out;
  };
}

/**
 * What is wrong with a pattern, or `undefined`: its syntax, placeholders that cannot be meant in
 * this scope (`${topik[1]}`), and, given the topic filter it applies to, levels that no matching
 * topic has (`${topic[3]}` under `sensors/+/telemetry`). For config validation.
 *
 * @example
 * patternProblem('${topic[5]}', 'uplink', 'a/+/c')
 * // 'expected levels that topics matching "a/+/c" have (3 levels, 0 to 2): ${topic[5]} is out of range, received "${topic[5]}"'
 */
export function patternProblem(pattern: string, scope: PatternScope, filter?: string): string | undefined {
  const parsed = parsePattern(pattern, scope);
  if (typeof parsed === 'string') return `expected ${parsed}, received ${JSON.stringify(pattern)}`;
  const plain = filter === undefined ? undefined : stripShare(filter);
  if (plain === undefined) return undefined;
  for (const part of parsed) {
    if (typeof part === 'string') continue;
    const problem = rangeProblem(part, plain);
    if (problem !== undefined) return `expected ${problem}, received ${JSON.stringify(pattern)}`;
  }
  return undefined;
}

function parsePattern(pattern: string, scope: PatternScope | undefined): Array<string | Placeholder> | string {
  const parts: Array<string | Placeholder> = [];
  let last = 0;
  for (const match of pattern.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push(pattern.slice(last, match.index));
    const placeholder = parsePlaceholder(match[1]!.trim(), scope);
    if (typeof placeholder === 'string') return placeholder;
    parts.push(placeholder);
    last = match.index + match[0].length;
  }
  if (pattern.slice(last).includes('${')) return 'placeholders written as ${name}, closed with "}"';
  if (last < pattern.length) parts.push(pattern.slice(last));
  return parts;
}

function parsePlaceholder(name: string, scope: PatternScope | undefined): Placeholder | string {
  if (name === '') return 'a name inside ${…}';
  if (name === 'topic') return { kind: 'topic' };
  if (scope === 'downlink' && name.includes('[')) {
    return `\${name} of a converter metadata key (topic levels exist only in device name and type patterns); \${${name}} is not one`;
  }
  const level = TOPIC_LEVEL.exec(name);
  if (level) return { kind: 'level', index: Number(level[1]) };
  const range = TOPIC_RANGE.exec(name);
  if (range) {
    const bound = (text: string | undefined) => (text === undefined ? undefined : Number(text));
    return { kind: 'range', start: bound(range[1]), end: bound(range[2]), separator: range[3] ?? DEFAULT_RANGE_SEPARATOR };
  }
  if (name.startsWith('topic[')) return `a topic level or range written as ${TOPIC_FORMS}`;
  if (scope === 'uplink') return `the placeholders of a device name or type pattern: ${TOPIC_FORMS}; \${${name}} is none of them`;
  return { kind: 'value', name };
}

function render(p: Placeholder): Part {
  switch (p.kind) {
    case 'topic':
      return (vars) => vars.topic;
    case 'level':
      return (vars, levels) => {
        if (vars.topic === undefined) return undefined;
        const all = levels();
        const value = p.index < 0 ? all[all.length + p.index] : all[p.index];
        return value === undefined || value === '' ? undefined : value;
      };
    case 'range':
      return (vars, levels) => {
        if (vars.topic === undefined) return undefined;
        const selected = levels().slice(p.start, p.end);
        // No level in the range (the topic is too short) is no value, like a missing single level.
        return selected.length === 0 || selected.every((l) => l === '') ? undefined : selected.join(p.separator);
      };
    case 'value': {
      const short = p.name.startsWith('metadata.') ? p.name.slice('metadata.'.length) : undefined;
      return (vars) => vars.values?.[p.name] ?? (short === undefined ? undefined : vars.values?.[short]);
    }
  }
}

/** Whether any topic the filter matches has the levels a placeholder takes. */
function rangeProblem(p: Placeholder, filter: string): string | undefined {
  if (p.kind !== 'level' && p.kind !== 'range') return undefined;
  const levels = filter.split('/');
  // `a/#` matches `a` too, so with `#` the fewest levels is one less, and there is no most.
  const open = levels[levels.length - 1] === '#';
  const count = open ? levels.length - 1 : levels.length;
  const shown = p.kind === 'level' ? `\${topic[${p.index}]}` : `\${topic[${p.start ?? ''}:${p.end ?? ''}]}`;
  const has = open ? `at least ${count} level${count === 1 ? '' : 's'}` : `${count} level${count === 1 ? '' : 's'}, 0 to ${count - 1}`;
  const out = `levels that topics matching ${JSON.stringify(filter)} have (${has}): ${shown} is out of range`;
  if (p.kind === 'level') {
    if (!open && (p.index >= count || -p.index > count)) return out;
    return undefined;
  }
  if (open) {
    // Only ranges that are empty for every length can be refused.
    const { start, end } = p;
    if (start !== undefined && end !== undefined && Math.sign(start) === Math.sign(end) && start >= end) return out;
    return undefined;
  }
  const indexes = Array.from({ length: count }, (_, i) => i).slice(p.start, p.end);
  return indexes.length === 0 ? out : undefined;
}
