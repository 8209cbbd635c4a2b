import { DeliveryError, type OutboundDownlink } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { renderTemplate } from './url-template.js';

const downlink: OutboundDownlink = {
  commandId: 'c-1',
  deviceName: 'Meter 7/A',
  encoded: { contentType: 'JSON', data: '{}', metadata: { devEui: '00AA', path: 'a b' } },
  payload: new Uint8Array(),
};

describe('renderTemplate', () => {
  it('fills device name, command id and metadata, encoding each value', () => {
    const url = renderTemplate('http://h/${deviceName}/${metadata.devEui}?p=${ metadata.path }&c=${commandId}', downlink, encodeURIComponent);
    expect(url).toBe('http://h/Meter%207%2FA/00AA?p=a%20b&c=c-1');
  });

  it('leaves values as they are without an encoder, and text without placeholders alone', () => {
    expect(renderTemplate('Bearer ${metadata.path}', downlink)).toBe('Bearer a b');
    expect(renderTemplate('http://h/$notaplaceholder', downlink)).toBe('http://h/$notaplaceholder');
  });

  it('throws a non-retryable DeliveryError for a missing value', () => {
    try {
      renderTemplate('http://h/${metadata.missing}', downlink);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DeliveryError);
      expect((error as DeliveryError).retryable).toBe(false);
      expect((error as DeliveryError).message).toContain('metadata.missing');
    }
  });
});
