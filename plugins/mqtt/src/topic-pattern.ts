import { ConfigError } from '@tbi/plugin-api';

/** A pattern compiled once and rendered per message. */
export type CompiledPattern = (vars: PatternVariables) => string | undefined;

/** What a pattern can refer to. */
export interface PatternVariables {
  /** The message topic: `${topic}` is all of it, `${topic[1]}` its second level, `${topic[-1]}` its last. */
  topic?: string;
  /** Any other `${name}`; keys may contain dots (`${metadata.key}` looks up `metadata.key`, then `key`). */
  values?: Readonly<Record<string, string | undefined>>;
}

type Part = string | ((vars: PatternVariables, levels: () => string[]) => string | undefined);

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const TOPIC_LEVEL = /^topic\[(-?\d+)\]$/;

/**
 * Compiles a ThingsBoard-style pattern such as `${topic[1]}` or `devices/${deviceName}/commands`.
 * Rendering returns `undefined` when a placeholder has no value, so the caller can tell
 * "no value" from an empty string.
 *
 * @example
 * compilePattern('${topic[1]}')({ topic: 'sensors/device1/telemetry' }) // 'device1'
 */
export function compilePattern(pattern: string, path = 'pattern'): CompiledPattern {
  const parts: Part[] = [];
  let last = 0;
  for (const match of pattern.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push(pattern.slice(last, match.index));
    parts.push(placeholder(match[1]!.trim(), pattern, path));
    last = match.index + match[0].length;
  }
  if (last < pattern.length) parts.push(pattern.slice(last));
  if (pattern.slice(last).includes('${')) {
    throw new ConfigError({ path, expected: 'placeholders written as ${name}', received: JSON.stringify(pattern) });
  }
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

function placeholder(name: string, pattern: string, path: string): Part {
  if (name === '') throw new ConfigError({ path, expected: 'a name inside ${…}', received: JSON.stringify(pattern) });
  if (name === 'topic') return (vars) => vars.topic;
  const level = TOPIC_LEVEL.exec(name);
  if (level) {
    const index = Number(level[1]);
    return (vars, levels) => {
      if (vars.topic === undefined) return undefined;
      const all = levels();
      const value = index < 0 ? all[all.length + index] : all[index];
      return value === undefined || value === '' ? undefined : value;
    };
  }
  if (name.startsWith('topic[')) {
    throw new ConfigError({ path, expected: 'a topic level written as ${topic[1]} (0 is the first level, -1 the last)', received: JSON.stringify(pattern) });
  }
  const short = name.startsWith('metadata.') ? name.slice('metadata.'.length) : undefined;
  return (vars) => vars.values?.[name] ?? (short === undefined ? undefined : vars.values?.[short]);
}
