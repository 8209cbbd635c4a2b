import { isTbiError, type OutboundDownlink } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { rabbitmqConfigSchema } from './config.js';
import { downlinkPublish, renderTemplate } from './downlink-message.js';

const downlink = (metadata: Record<string, string>, contentType: 'JSON' | 'TEXT' | 'BINARY' = 'JSON'): OutboundDownlink => ({
  commandId: 'cmd-1',
  deviceName: 'pump-1',
  encoded: { contentType, data: '{"on":true}', metadata },
  payload: Buffer.from('{"on":true}'),
});

describe('downlinkPublish', () => {
  const config = rabbitmqConfigSchema.parse({ downlink: { exchange: 'commands', routingKey: 'commands.${deviceName}.${method}' } }).downlink;

  it('fills the routing key template from the device and the metadata; properties and headers from metadata', () => {
    const p = downlinkPublish(downlink({ method: 'setValve', correlationId: 'c-9', replyTo: 'replies', priority: '3' }), config);
    expect(p.exchange).toBe('commands');
    expect(p.routingKey).toBe('commands.pump-1.setValve');
    expect(p.properties).toMatchObject({
      contentType: 'application/json',
      messageId: 'cmd-1',
      correlationId: 'c-9',
      replyTo: 'replies',
      priority: 3,
      deliveryMode: 2,
      mandatory: true,
      headers: { method: 'setValve' },
    });
  });

  it('lets the converter metadata choose exchange and routing key', () => {
    const p = downlinkPublish(downlink({ exchange: 'other', routingKey: 'rk', method: 'x' }, 'TEXT'), config);
    expect([p.exchange, p.routingKey, p.properties.contentType]).toEqual(['other', 'rk', 'text/plain']);
    expect(p.properties.headers).toEqual({ method: 'x' });
  });

  it('refuses a template whose value is missing, naming it', () => {
    let error: unknown;
    try {
      renderTemplate('commands.${region}', { deviceName: 'd' }, 'routingKey');
    } catch (e) {
      error = e;
    }
    expect(isTbiError(error)).toBe(true);
    expect((error as Error).message).toContain('"region"');
    expect((error as { retryable: boolean }).retryable).toBe(false);
  });
});
