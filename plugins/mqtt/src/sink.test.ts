import { bareContext } from '@tbi/plugin-testkit';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { mqttConfigSchema } from './config.js';
import { MqttSink } from './sink.js';

function sink(topicPattern: string): MqttSink {
  const config = mqttConfigSchema.parse({ host: 'localhost', topicFilters: [{ filter: 'a/#' }], downlink: { topicPattern } });
  const ctx = bareContext({ type: 'mqtt', config, uplink: { submit: async () => {} } as never, dataDir: '/nonexistent' });
  return new MqttSink(ctx, { client: {} as MqttClient, connected: false });
}

describe('MqttSink.target', () => {
  it('renders ${deviceName}, ${deviceType} and ${commandId} into downlink.topicPattern', () => {
    const target = sink('cmd/${deviceType}/${deviceName}/${commandId}').target({
      commandId: 'c1',
      deviceName: 'pump-1',
      deviceType: 'pump',
      encoded: { contentType: 'JSON', data: '{}', metadata: {} },
      payload: new Uint8Array(),
    });
    expect(target.topic).toBe('cmd/pump/pump-1/c1');
  });

  it("lets the converter's metadata.deviceType override the platform's", () => {
    const target = sink('cmd/${deviceType}').target({
      commandId: 'c1',
      deviceName: 'pump-1',
      deviceType: 'pump',
      encoded: { contentType: 'JSON', data: '{}', metadata: { deviceType: 'valve' } },
      payload: new Uint8Array(),
    });
    expect(target.topic).toBe('cmd/valve');
  });
});
