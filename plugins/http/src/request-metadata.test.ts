import { describe, expect, it } from 'vitest';
import { requestMetadata } from './request-metadata.js';

describe('requestMetadata', () => {
  it('maps headers, query parameters, suffix, address and method', () => {
    const metadata = requestMetadata({
      method: 'PUT',
      headers: new Headers({ 'Content-Type': 'application/json', 'X-Device': 'd1', 'X-Api-Key': 'secret' }),
      search: '?x=1&tag=a&tag=b&empty=',
      pathSuffix: 'a/b',
      remoteAddress: '::1',
      hiddenHeaders: new Set(['x-api-key']),
    });
    expect(metadata).toEqual({
      'Header:content-type': 'application/json',
      'Header:x-device': 'd1',
      'Query:x': '1',
      'Query:tag': 'a,b',
      'Query:empty': '',
      pathSuffix: 'a/b',
      remoteAddress: '::1',
      httpMethod: 'PUT',
    });
  });

  it('leaves pathSuffix out when there is none', () => {
    const metadata = requestMetadata({
      method: 'POST',
      headers: new Headers(),
      search: '',
      pathSuffix: '',
      remoteAddress: '127.0.0.1',
      hiddenHeaders: new Set(),
    });
    expect(metadata).toEqual({ remoteAddress: '127.0.0.1', httpMethod: 'POST' });
  });
});
