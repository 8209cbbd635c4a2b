import { z } from 'zod';
import type { LoadedPlugin } from '../plugins/load-plugin.js';
import { hostConfigSchema } from './config-schema.js';

/**
 * The config file's JSON Schema (draft 2020-12) for editors: the host's own schema, and for each
 * given plugin with a `configJsonSchema`, an `if type == X then config: <schema>` rule.
 *
 * @example
 * // tbi.yaml, first line:  # yaml-language-server: $schema=./tbi.schema.json
 */
export function buildJsonSchema(plugins: readonly LoadedPlugin[] = []): Record<string, unknown> {
  const schema = z.toJSONSchema(hostConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const integrations = (schema.properties as Record<string, Record<string, unknown>> | undefined)?.integrations;
  const item = integrations?.items as Record<string, unknown> | undefined;
  const types = plugins.map((p) => p.definition.type);
  if (item) {
    const typeProp = (item.properties as Record<string, Record<string, unknown>>).type;
    if (typeProp && types.length > 0) typeProp.examples = types;
    const rules = plugins
      .filter((p) => p.definition.configJsonSchema !== undefined)
      .map((p) => ({
        if: { properties: { type: { const: p.definition.type } }, required: ['type'] },
        // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword of if/then.
        then: { properties: { config: { ...p.definition.configJsonSchema, description: `Settings of ${p.info.packageName} ${p.info.version}.` } } },
      }));
    if (rules.length > 0) item.allOf = rules;
  }
  return { ...schema, title: 'tbi host configuration' };
}
