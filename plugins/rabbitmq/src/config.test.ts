import { describe, expect, it } from 'vitest';
import { rabbitmqConfigSchema } from './config.js';
import { connectionOptions, describeBroker } from './connection-options.js';
import { queueTraits, unboundQueues } from './topology.js';

describe('rabbitmqConfigSchema', () => {
  it('fills ThingsBoard-like defaults: heartbeat 60 s, prefetch 50, confirmed persistent downlinks', () => {
    const c = rabbitmqConfigSchema.parse({ uplink: { queues: 'a, b' } });
    expect(c.heartbeatSec).toBe(60);
    expect(c.uplink).toMatchObject({ queues: ['a', 'b'], prefetch: 50, deadLetter: 'auto', maxDeliveries: 5, messageIdIsUnique: false, streamOffset: 'first' });
    expect(c.downlink).toMatchObject({ exchange: '', routingKey: '${deviceName}', mandatory: true, persistent: true });
    expect(connectionOptions(c)).toMatchObject({ host: '127.0.0.1', port: 5672, vhost: '/', username: 'guest' });
  });

  it('accepts the string forms of numbers and booleans (values from ${env:X})', () => {
    const c = rabbitmqConfigSchema.parse({ port: '5673', heartbeatSec: '30', uplink: { queues: ['q'], prefetch: '20', messageIdIsUnique: 'true' } });
    expect(c.port).toBe(5673);
    expect(c.uplink?.prefetch).toBe(20);
    expect(c.uplink?.messageIdIsUnique).toBe(true);
  });

  it('takes the broker from an amqps:// URL, with fields beside it winning; never prints the password', () => {
    const c = rabbitmqConfigSchema.parse({ url: 'amqps://u:p%40ss@broker.example:5999/prod%2Fa', username: 'other' });
    const o = connectionOptions(c);
    expect(o).toMatchObject({ host: 'broker.example', port: 5999, vhost: 'prod/a', username: 'other', password: 'p@ss' });
    expect(o.tls).toEqual({ rejectUnauthorized: true });
    expect(describeBroker(o)).toBe('amqps://other@broker.example:5999/prod%2Fa');
    expect(connectionOptions(rabbitmqConfigSchema.parse({ tls: {} })).port).toBe(5671);
  });

  it('names the path of every problem', () => {
    const r = rabbitmqConfigSchema.safeParse({
      url: 'http://x',
      uplink: { queues: [], prefetch: 0 },
      topology: { exchanges: [{ name: 'h', type: 'headers' }, { name: 'x', type: 'nope' }], bindings: [{ exchange: 'h', queue: 'q' }] },
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
        bindings: [{ exchange: 'amq.topic', queue: 'bound', routingKey: '#' }, { exchange: 'amq.fanout', queue: 'events' }],
      },
    });
    expect(unboundQueues(c)).toEqual(['lonely']);
    expect(queueTraits(c, 'bound')).toEqual({ stream: false, brokerDeadLetters: true });
    expect(queueTraits(c, 'lonely')).toEqual({ stream: false, brokerDeadLetters: false });
    expect(queueTraits(c, 'events')).toEqual({ stream: true, brokerDeadLetters: false });
    expect(unboundQueues(rabbitmqConfigSchema.parse({ exchangeName: 'x', uplink: { queues: ['a'] } }))).toEqual([]);
  });
});
