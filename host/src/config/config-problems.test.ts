import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { issuesToProblems } from './config-problems.js';
import type { JsonSchema } from './schema-walk.js';

const schema = z
  .strictObject({
    mode: z.enum(['a', 'b', 'c']).default('a'),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
    server: z.string().describe('The server, host:port.'),
  })
  .superRefine((v, ctx) => {
    if (v.mode === 'b') ctx.addIssue({ code: 'custom', path: ['mode'], message: 'mode "b" needs a server on port 1' });
  });
const ctx = (tree: unknown) => ({
  file: 'tbi.yaml',
  tree,
  locate: () => ':3',
  redact: (t: string) => t,
  jsonSchema: z.toJSONSchema(schema, { io: 'input' }) as JsonSchema,
});
const problems = (tree: unknown) => {
  const result = schema.safeParse(tree);
  return result.success ? [] : issuesToProblems(result.error.issues, ['config'], ctx({ config: tree })).map((p) => p.message);
};

describe('issuesToProblems', () => {
  it('names enum values, required keys with their description, and unknown keys with a suggestion', () => {
    expect(problems({ mode: 'x', qos: 3, sever: 'h:1' })).toEqual([
      'tbi.yaml:3: config.mode: expected "a", "b" or "c", received "x"',
      'tbi.yaml:3: config.qos: expected 0, 1 or 2, received 3',
      'tbi.yaml:3: config.sever: unknown key "sever" — did you mean "server"?',
    ]);
    expect(problems({})).toEqual(['tbi.yaml:3: config.server: required (The server, host:port)']);
  });

  it("keeps a refinement's own words at a place that is an enum", () => {
    expect(problems({ mode: 'b', server: 'h:2' })).toEqual([
      'tbi.yaml:3: config.mode: expected a valid value (mode "b" needs a server on port 1), received "b"',
    ]);
  });
});
