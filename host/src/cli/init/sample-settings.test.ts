import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sampleSettings } from './sample-settings.js';

describe('sampleSettings', () => {
  it('fills required settings from examples, the description and the type; lists defaults after them', () => {
    const schema = z.toJSONSchema(
      z.strictObject({
        port: z.number().int().default(1883).describe('Broker port.'),
        host: z.string().meta({ examples: ['localhost'] }),
        topics: z.array(z.strictObject({ filter: z.string().describe('A filter, e.g. sensors/+/data; more'), qos: z.number().optional() })).min(1),
        count: z.number(),
        optional: z.string().optional(),
      }),
      { io: 'input' },
    ) as Record<string, unknown>;
    expect(sampleSettings(schema)).toEqual([
      { key: 'host', value: '"localhost"', required: true, description: undefined },
      { key: 'topics', value: '[{"filter":"sensors/+/data"}]', required: true, description: undefined },
      { key: 'count', value: '0', required: true, description: undefined },
      { key: 'port', value: '1883', required: false, description: 'Broker port.' },
    ]);
  });
});
