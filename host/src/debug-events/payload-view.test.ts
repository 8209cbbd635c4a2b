import { describe, expect, it } from 'vitest';
import { viewPayload } from './payload-view.js';

describe('viewPayload', () => {
  it('shows text as text and binary as Base64 only', () => {
    expect(viewPayload(Buffer.from('{"a":1}\n'))).toEqual({ size: 8, base64: 'eyJhIjoxfQo=', text: '{"a":1}\n', truncated: false });
    const binary = viewPayload(Uint8Array.of(0x01, 0xff, 0x00));
    expect(binary.text).toBeUndefined();
    expect(binary.base64).toBe('Af8A');
  });

  it('truncates big payloads without breaking a multi-byte character', () => {
    const view = viewPayload(Buffer.from('aé€'), 4); // 1 + 2 + 3 bytes; the cut falls inside €
    expect(view).toMatchObject({ size: 6, truncated: true, text: 'aé' });
  });
});
