import type { ConfigPath } from '../../config/format-path.js';
import { type JsonSchema, schemaAt, typeOf } from '../../config/schema-walk.js';

/** One line of an integration's `config:` block in the sample tbi.yaml. */
export interface SettingLine {
  key: string;
  /** The value as inline YAML (JSON is YAML's flow style). */
  value: string;
  /** Required settings are written as values to edit; the others as comments with their default. */
  required: boolean;
  description: string | undefined;
}

/**
 * The settings of a plugin's `config` block for `tbi init`, read from the JSON Schema the plugin
 * publishes: each required setting with a sample value (the schema's first `examples` entry, else
 * the "e.g." of its description, else a placeholder of its type), then each setting that has a
 * default, with that default. Optional settings without a default are left to the schema.
 *
 * @example sampleSettings(mqttJsonSchema)[0] // { key: 'host', value: '"localhost"', required: true, … }
 */
export function sampleSettings(schema: JsonSchema): SettingLine[] {
  const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const lines: SettingLine[] = [];
  for (const key of Object.keys(properties)) {
    const alternatives = schemaAt(schema, [key]);
    const description = describe(alternatives);
    if (required.has(key)) {
      lines.push({ key, value: JSON.stringify(sampleValue(schema, [key])), required: true, description });
      continue;
    }
    const withDefault = alternatives.find((s) => 'default' in s);
    if (withDefault) lines.push({ key, value: JSON.stringify(withDefault.default), required: false, description });
  }
  return lines.sort((a, b) => Number(b.required) - Number(a.required));
}

/** A value for the required setting at `path`, for the user to replace. */
function sampleValue(root: JsonSchema, path: ConfigPath): unknown {
  if (path.length > 8) return 'change-me'; // a schema that requires itself, recursively
  const alternatives = schemaAt(root, path);
  for (const s of alternatives) if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  const types = alternatives.flatMap(typeOf);
  if (types.includes('array')) return [sampleValue(root, [...path, 0])];
  if (types.includes('object')) {
    const required = alternatives.flatMap((s) => (Array.isArray(s.required) ? (s.required as string[]) : []));
    return Object.fromEntries([...new Set(required)].map((key) => [key, sampleValue(root, [...path, key])]));
  }
  if (types.includes('number')) return 0;
  if (types.includes('boolean')) return false;
  return exampleInDescription(describe(alternatives)) ?? 'change-me';
}

/** The "e.g. X" of a description ("Topic filter, e.g. sensors/+/telemetry; …" gives sensors/+/telemetry). */
function exampleInDescription(description: string | undefined): string | undefined {
  return description ? /\be\.g\.,? ([^\s;,]+)/.exec(description)?.[1] : undefined;
}

function describe(alternatives: readonly JsonSchema[]): string | undefined {
  return alternatives.map((s) => s.description).find((d): d is string => typeof d === 'string');
}
