import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { coerceToSchema } from './coerce-to-schema.js';
import type { JsonSchema } from './schema-walk.js';

const schema = z.strictObject({
  protocolVersion: z.enum(['3.1', '3.1.1', '5']),
  password: z.string().optional(),
  port: z.number().int().optional(),
  retain: z.boolean().optional(),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  key: z.union([z.string(), z.number()]).optional(),
  filters: z.array(z.strictObject({ qos: z.number() })).optional(),
});
const json = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;

describe('coerceToSchema', () => {
  it('turns scalars into the one type the schema allows at their place', () => {
    const tree = { protocolVersion: 5, password: 1234, port: '1883', retain: 'true', qos: '2', filters: [{ qos: '1' }] };
    const coerced = coerceToSchema(tree, json);
    expect(coerced).toEqual({ protocolVersion: '5', password: '1234', port: 1883, retain: true, qos: 2, filters: [{ qos: 1 }] });
    expect(schema.safeParse(coerced).success).toBe(true);
    expect(tree.port).toBe('1883'); // the input is not changed
  });

  it('turns a number into a string as it was written', () => {
    const written = (path: readonly PropertyKey[]) => (path.join('.') === 'password' ? '0123' : undefined);
    expect(coerceToSchema({ password: 123, protocolVersion: 5 }, json, written)).toEqual({ password: '0123', protocolVersion: '5' });
  });

  it('leaves values that fit, that are ambiguous, or that no type would take', () => {
    expect(coerceToSchema({ key: '7', port: 'abc', qos: '3', extra: 5 }, json)).toEqual({ key: '7', port: 'abc', qos: '3', extra: 5 });
    expect(coerceToSchema({ port: '1' }, undefined)).toEqual({ port: '1' });
  });
});
