import type { ConfigPath } from './format-path.js';

/** A JSON Schema (draft 2020-12) node, as `z.toJSONSchema` and plugins' `configJsonSchema` make them. */
export type JsonSchema = Record<string, unknown>;

/**
 * The alternatives a schema allows at `path`, with `$ref`, `anyOf`, `oneOf` and `allOf` flattened.
 * Empty when the schema says nothing about that place. JSON Schema is the one description of a
 * config that every plugin publishes whatever its schema library, so the host reads expectations
 * (allowed keys, enum values, types) from it.
 *
 * @example schemaAt(root, ['topicFilters', 0, 'qos']) // [{ const: 0 }, { const: 1 }, …]
 */
export function schemaAt(root: JsonSchema, path: ConfigPath): JsonSchema[] {
  let current = expand(root, root);
  for (const key of path) {
    current = current.flatMap((s) => child(root, s, key));
    if (current.length === 0) break;
  }
  return current;
}

/** The keys an object at `path` may have, or undefined when any key is allowed (a record). */
export function allowedKeys(root: JsonSchema, path: ConfigPath): string[] | undefined {
  const objects = schemaAt(root, path).filter((s) => typeOf(s).includes('object') || isObject(s.properties));
  if (objects.length === 0) return undefined;
  if (objects.some((s) => !isObject(s.properties) && s.additionalProperties !== false)) return undefined;
  return [...new Set(objects.flatMap((s) => Object.keys((s.properties as JsonSchema | undefined) ?? {})))];
}

/** The only values allowed at a place (every alternative is a `const` or an `enum`), or undefined. */
export function enumValues(alternatives: readonly JsonSchema[]): unknown[] | undefined {
  if (alternatives.length === 0) return undefined;
  const values: unknown[] = [];
  for (const s of alternatives) {
    if ('const' in s) values.push(s.const);
    else if (Array.isArray(s.enum)) values.push(...(s.enum as unknown[]));
    else return undefined;
  }
  return values;
}

/** The JSON types an alternative accepts (`integer` counts as `number`); [] means any. */
export function typeOf(s: JsonSchema): string[] {
  if ('const' in s) return [jsonType(s.const)];
  if (Array.isArray(s.enum)) return [...new Set((s.enum as unknown[]).map(jsonType))];
  const t = s.type;
  const list = Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : [];
  return list.map((x) => (x === 'integer' ? 'number' : x));
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expand(root: JsonSchema, s: unknown, depth = 0): JsonSchema[] {
  if (!isObject(s) || depth > 20) return [];
  let node = s;
  if (typeof node.$ref === 'string') {
    const target = resolveRef(root, node.$ref);
    if (target === undefined) return [];
    node = { ...target, ...Object.fromEntries(Object.entries(node).filter(([k]) => k !== '$ref')) };
  }
  const alternatives = [...((node.anyOf as unknown[]) ?? []), ...((node.oneOf as unknown[]) ?? [])];
  const parts = (node.allOf as unknown[]) ?? [];
  const rest = Object.fromEntries(Object.entries(node).filter(([k]) => !['anyOf', 'oneOf', 'allOf'].includes(k)));
  const base = alternatives.length > 0 ? alternatives.flatMap((a) => expand(root, { ...rest, ...(a as JsonSchema) }, depth + 1)) : [rest];
  // allOf members (the host's `if type then config` rules) add alternatives to look into.
  return [...base, ...parts.flatMap((p) => expand(root, p, depth + 1))];
}

function resolveRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    if (!isObject(node)) return undefined;
    node = node[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return isObject(node) ? node : undefined;
}

function child(root: JsonSchema, s: JsonSchema, key: PropertyKey): JsonSchema[] {
  if (typeof key === 'number') {
    const prefix = s.prefixItems as unknown[] | undefined;
    if (prefix?.[key] !== undefined) return expand(root, prefix[key]);
    return expand(root, s.items);
  }
  const name = String(key);
  const props = s.properties as JsonSchema | undefined;
  if (props && Object.hasOwn(props, name)) return expand(root, props[name]);
  if (isObject(s.additionalProperties)) return expand(root, s.additionalProperties);
  return [];
}
