import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { mqttConfigSchema } from './config.js';
import { metadataBuilder } from './message-metadata.js';

const packet = (topic: string, extra: Partial<IPublishPacket> = {}): IPublishPacket =>
  ({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 1, retain: false, dup: false, ...extra }) as IPublishPacket;

describe('metadataBuilder', () => {
  it('uses the patterns of the first filter that matches the topic', () => {
    const build = metadataBuilder(
      mqttConfigSchema.parse({
        host: 'b',
        deviceNamePattern: '${topic[1]}',
        topicFilters: [{ filter: '$share/g/gw/#', deviceNamePattern: '${topic[-1]}', deviceTypePattern: 'gateway' }, { filter: 'sensors/+/data' }],
        protocolVersion: '5',
      }),
    );
    expect(build(packet('gw/a/b'))).toEqual({ topic: 'gw/a/b', qos: '1', retain: 'false', deviceName: 'b', deviceType: 'gateway' });
    expect(build(packet('sensors/s1/data', { qos: 0, retain: true }))).toEqual({ topic: 'sensors/s1/data', qos: '0', retain: 'true', deviceName: 's1' });
  });

  it('adds MQTT 5 content type, response topic and user properties', () => {
    const build = metadataBuilder(mqttConfigSchema.parse({ host: 'b', topicFilters: [{ filter: '#' }] }));
    const meta = build(packet('t', { properties: { contentType: 'text/plain', responseTopic: 'r/1', userProperties: { a: '1', b: ['x', 'y'] } } }));
    expect(meta).toEqual({
      topic: 't',
      qos: '1',
      retain: 'false',
      contentType: 'text/plain',
      responseTopic: 'r/1',
      'userProperty:a': '1',
      'userProperty:b': 'x,y',
    });
  });
});
