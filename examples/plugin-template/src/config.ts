import { coerceBoolean, coerceNumber } from '@tbi/plugin-api';
import { z } from 'zod';

// `${env:…}` values arrive as strings: the kit's coercions turn them into numbers and booleans
// and leave anything else for the schema to report.
const int = (schema: z.ZodNumber) => z.preprocess(coerceNumber, schema.int());

/**
 * The `config` block of a `tcp-line` integration.
 *
 * @example
 * { host: '0.0.0.0', port: 7070, maxLineBytes: 4096 }
 */
export const tcpLineConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1').describe('Interface to listen on.'),
  port: int(z.number().min(0).max(65535)).default(7070).describe('TCP port (0: any free port, see GET /api/v1/integrations/tcp-line/<name>).'),
  maxLineBytes: int(z.number().positive()).default(65_536).describe('Longer lines are dead-lettered unconverted (answered `error TOO_LONG`).'),
  replies: z.preprocess(coerceBoolean, z.boolean()).default(true).describe('Answer each line (`ok`, `error <kind>`, `retry`).'),
});

export type TcpLineConfig = z.output<typeof tcpLineConfigSchema>;

/** The same schema as JSON Schema, for `tbi schema` and editors. */
export const configJsonSchema = z.toJSONSchema(tcpLineConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
