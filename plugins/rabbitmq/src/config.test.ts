import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isTbiError } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { rabbitmqConfigSchema } from './config.js';
import { connectionOptions, describeBroker } from './connection-options.js';
import { queueTraits, unboundQueues } from './topology.js';

describe('rabbitmqConfigSchema', () => {
  it('fills ThingsBoard-like defaults: heartbeat 60 s, prefetch 50, confirmed persistent downlinks', async () => {
    const c = rabbitmqConfigSchema.parse({ uplink: { queues: 'a, b' } });
    expect(c.heartbeatSec).toBe(60);
    expect(c.uplink).toMatchObject({
      queues: ['a', 'b'],
      prefetch: 50,
      deadLetter: 'auto',
      maxDeliveries: 5,
      messageIdIsUnique: false,
      streamOffset: 'first',
    });
    expect(c.downlink).toMatchObject({ exchange: '', routingKey: '${deviceName}', mandatory: true, persistent: true });
    expect(await connectionOptions(c)).toMatchObject({ host: '127.0.0.1', port: 5672, vhost: '/', username: 'guest' });
  });

  it('accepts the string forms of numbers and booleans (values from ${env:X})', () => {
    const c = rabbitmqConfigSchema.parse({ port: '5673', heartbeatSec: '30', uplink: { queues: ['q'], prefetch: '20', messageIdIsUnique: 'true' } });
    expect(c.port).toBe(5673);
    expect(c.uplink?.prefetch).toBe(20);
    expect(c.uplink?.messageIdIsUnique).toBe(true);
  });

  it('reports an empty or non-numeric string where a number belongs, instead of reading it as 0', () => {
    const r = rabbitmqConfigSchema.safeParse({ heartbeatSec: '', port: 'amqp', uplink: { queues: ['q'], prefetch: ' 20 ', messageIdIsUnique: 'TRUE' } });
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'port: Invalid input: expected number, received string',
      'heartbeatSec: Invalid input: expected number, received string',
    ]);
    const ok = rabbitmqConfigSchema.parse({ uplink: { queues: ['q'], prefetch: ' 20 ', messageIdIsUnique: 'TRUE', streamOffset: '42' } });
    expect(ok.uplink).toMatchObject({ prefetch: 20, messageIdIsUnique: true, streamOffset: 42 });
  });

  it('reads TLS files relative to the config folder; a missing one fails naming the setting', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tbi-rabbitmq-pem-'));
    await writeFile(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
    const o = await connectionOptions(rabbitmqConfigSchema.parse({ tls: { ca: 'ca.pem' } }), dir);
    expect(o.tls?.ca?.toString()).toContain('BEGIN CERTIFICATE');
    const missing = await connectionOptions(rabbitmqConfigSchema.parse({ tls: { ca: 'ca.pem', key: 'nope.key' } }), dir).catch((e: unknown) => e);
    expect(isTbiError(missing) && missing.code).toBe('CONFIG_INVALID');
    expect((missing as Error).message).toBe(
      `config.tls.key: expected PEM text or the path of a readable PEM file, received ${JSON.stringify(path.join(dir, 'nope.key'))}`,
    );
  });

  it('takes the broker from an amqps:// URL, with fields beside it winning; never prints the password', async () => {
    const c = rabbitmqConfigSchema.parse({ url: 'amqps://u:p%40ss@broker.example:5999/prod%2Fa', username: 'other' });
    const o = await connectionOptions(c);
    expect(o).toMatchObject({ host: 'broker.example', port: 5999, vhost: 'prod/a', username: 'other', password: 'p@ss' });
    expect(o.tls).toEqual({ rejectUnauthorized: true });
    expect(describeBroker(o)).toBe('amqps://other@broker.example:5999/prod%2Fa');
    expect((await connectionOptions(rabbitmqConfigSchema.parse({ tls: {} }))).port).toBe(5671);
  });

  it('names the path of every problem', () => {
    const r = rabbitmqConfigSchema.safeParse({
      url: 'http://x',
      uplink: { queues: [], prefetch: 0 },
      topology: {
        exchanges: [
          { name: 'h', type: 'headers' },
          { name: 'x', type: 'nope' },
        ],
        bindings: [{ exchange: 'h', queue: 'q' }],
      },
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['url', 'uplink.queues', 'uplink.prefetch', 'topology.exchanges.1.type']));
    const r2 = rabbitmqConfigSchema.safeParse({ topology: { exchanges: [{ name: 'h', type: 'headers' }], bindings: [{ exchange: 'h', queue: 'q' }] } });
    expect(r2.error!.issues.map((i) => i.path.join('.'))).toEqual(['topology.bindings.0.arguments']);
  });

  it('finds consumed queues bound to nothing, and which queues are streams or have a DLX', () => {
    const c = rabbitmqConfigSchema.parse({
      uplink: { queues: ['bound', 'lonely', 'events'] },
      topology: {
        queues: [
          { name: 'bound', arguments: { 'x-dead-letter-exchange': 'dlx' } },
          { name: 'events', arguments: { 'x-queue-type': 'stream', 'x-dead-letter-exchange': 'dlx' } },
        ],
        bindings: [
          { exchange: 'amq.topic', queue: 'bound', routingKey: '#' },
          { exchange: 'amq.fanout', queue: 'events' },
        ],
      },
    });
    expect(unboundQueues(c)).toEqual(['lonely']);
    expect(queueTraits(c, 'bound')).toEqual({ stream: false, brokerDeadLetters: true });
    expect(queueTraits(c, 'lonely')).toEqual({ stream: false, brokerDeadLetters: false });
    expect(queueTraits(c, 'events')).toEqual({ stream: true, brokerDeadLetters: false });
    expect(unboundQueues(rabbitmqConfigSchema.parse({ exchangeName: 'x', uplink: { queues: ['a'] } }))).toEqual([]);
  });
});
