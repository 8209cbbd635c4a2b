import type { ConfigPath } from './format-path.js';
import { schemaAt, typeOf, type JsonSchema } from './schema-walk.js';

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Converts scalars to the type the JSON Schema asks for where the value is unambiguous: a
 * number-like string where only a number fits (`port: ${env:PORT}` gives "8080"), a number
 * where only a string fits (`protocolVersion: 5`, `password: 1234`), `"true"`/`"false"` where
 * only a boolean fits. Done once here, from the schema every plugin publishes, so that no plugin
 * has to write its own coercions. `numberText` gives a number's text as written, so that
 * `password: 0123` is "0123", not "123". Returns a new tree; the input is not changed.
 *
 * @example coerceToSchema({ protocolVersion: 5 }, mqttJsonSchema) // { protocolVersion: '5' }
 */
export function coerceToSchema(tree: unknown, root: JsonSchema | undefined, numberText: (path: ConfigPath) => string | undefined = () => undefined): unknown {
  if (root === undefined) return tree;
  const walk = (node: unknown, path: ConfigPath): unknown => {
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return coerceScalar(node, schemaAt(root, path), () => numberText(path));
  };
  return walk(tree, []);
}

function coerceScalar(value: unknown, alternatives: readonly JsonSchema[], written: () => string | undefined): unknown {
  if (alternatives.length === 0) return value;
  const accepts = (type: string, v: unknown) =>
    alternatives.some((s) => {
      if ('const' in s) return s.const === v;
      if (Array.isArray(s.enum)) return (s.enum as unknown[]).includes(v);
      const types = typeOf(s);
      return types.length === 0 || types.includes(type);
    });
  if (typeof value === 'string') {
    if (accepts('string', value)) return value;
    const trimmed = value.trim();
    if (NUMBER.test(trimmed) && accepts('number', Number(trimmed))) return Number(trimmed);
    if ((trimmed === 'true' || trimmed === 'false') && accepts('boolean', trimmed === 'true')) return trimmed === 'true';
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    if (accepts(typeof value, value)) return value;
    const text = (typeof value === 'number' ? written() : undefined) ?? String(value);
    if (accepts('string', text)) return text;
  }
  return value;
}
