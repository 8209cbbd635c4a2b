import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bearerAuth } from './bearer-auth.js';

function app(token: string | undefined) {
  const a = new Hono();
  a.use('*', bearerAuth(token));
  a.get('/x', (c) => c.text('ok'));
  a.get('/events/stream', (c) => c.text('stream'));
  return a;
}

describe('bearerAuth', () => {
  it('lets the right token through and answers 401 otherwise', async () => {
    const a = app('right-token');
    expect((await a.request('/x', { headers: { Authorization: 'Bearer right-token' } })).status).toBe(200);
    expect((await a.request('/x', { headers: { Authorization: 'bearer right-token' } })).status).toBe(200);
    for (const header of ['', 'Bearer wrong', 'Bearer right-token-but-longer', 'Basic cmlnaHQtdG9rZW4=']) {
      const res = await a.request('/x', { headers: header ? { Authorization: header } : {} });
      expect(res.status, header).toBe(401);
    }
  });

  it('refuses everything, saying how to enable it, when no token is configured', async () => {
    const res = await app(undefined).request('/x', { headers: { Authorization: 'Bearer anything' } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toContain('set auth.token in the config or the TBI_TOKEN environment variable');
  });

  it('takes ?token= only on event streams (EventSource cannot send headers)', async () => {
    const a = app('right-token');
    expect((await a.request('/events/stream?token=right-token')).status).toBe(200);
    expect((await a.request('/events/stream?token=wrong')).status).toBe(401);
    expect((await a.request('/x?token=right-token')).status).toBe(401);
  });
});
