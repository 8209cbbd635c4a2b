import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './create-logger.js';

/** A host logger and its raw lines (raw: `JSON.parse` would hide a repeated key). */
function rawLogger() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'debug', pretty: false, destination });
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

const count = (line: string, key: string) => line.split(`"${key}":`).length - 1;

describe('host log lines carry each key once', () => {
  it('drops a call field that repeats a child binding with the same value', () => {
    const { logger, lines } = rawLogger();
    logger.child({ integration: 'a', type: 'mqtt' }).child({ component: 'x' }).info({ integration: 'a', n: 1 }, 'hello');
    const [line] = lines();
    expect(count(line!, 'integration')).toBe(1);
    expect(JSON.parse(line!)).toMatchObject({ integration: 'a', type: 'mqtt', component: 'x', n: 1, msg: 'hello' });
  });

  it('lets a call or a grandchild rebind a key once, the more specific value winning', () => {
    const { logger, lines } = rawLogger();
    const child = logger.child({ integration: 'a', type: 'kafka' });
    child.warn({ type: 'connack' }, 'call wins');
    const grandchild = child.child({ integration: 'a' }).child({ type: 'inner' });
    grandchild.info({}, 'grandchild wins');
    grandchild.child({ more: 1 }).debug({ pid: 1 }, 'pid stays the process id');
    const [a, b, c] = lines();
    for (const line of [a!, b!, c!])
      for (const key of ['integration', 'type', 'pid', 'level', 'time']) expect(count(line, key), `${key} in ${line}`).toBeLessThanOrEqual(1);
    expect(JSON.parse(a!)).toMatchObject({ integration: 'a', type: 'connack', level: 40 });
    expect(JSON.parse(b!)).toMatchObject({ integration: 'a', type: 'inner' });
    expect(JSON.parse(c!)).toMatchObject({ integration: 'a', type: 'inner', more: 1, pid: process.pid, level: 20 });
  });

  it('keeps the child level when a rebinding child is made from the root', () => {
    const { logger, lines } = rawLogger();
    const quiet = logger.child({ integration: 'a' }, { level: 'warn' });
    quiet.child({ integration: 'b' }).info({}, 'not written');
    quiet.child({ integration: 'b' }).warn({ err: new Error('boom') }, 'written');
    expect(lines()).toHaveLength(1);
    expect(JSON.parse(lines()[0]!)).toMatchObject({ integration: 'b', msg: 'written', err: { message: 'boom' } });
  });
});
