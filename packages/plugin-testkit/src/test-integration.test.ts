import { definePlugin, isShutdownError, type OutboundDownlink, type StandardSchemaV1 } from '@tbi/plugin-api';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestIntegration, type TestIntegration } from './test-integration.js';

const anyConfig: StandardSchemaV1<unknown, { key: string }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (v) =>
      typeof (v as { key?: unknown }).key === 'string' ? { value: v as { key: string } } : { issues: [{ message: 'expected a key', path: ['key'] }] },
  },
};

/** A webhook plugin in ten lines: POST /<key> submits the body and answers once it is stored. */
const inbox = definePlugin({
  type: 'inbox',
  configSchema: anyConfig,
  downlink: 'push',
  create(ctx) {
    const sent: OutboundDownlink[] = [];
    ctx.http.post(`/${ctx.config.key}`, async (c) => {
      try {
        const [outcome] = await ctx.uplink.submit([{ payload: new Uint8Array(await c.req.raw.arrayBuffer()), metadata: { from: c.get('remoteAddress') } }]);
        return new Response(null, { status: outcome?.status === 'stored' ? 200 : 400 });
      } catch (error) {
        return new Response(null, { status: isShutdownError(error) ? 503 : 500 });
      }
    });
    ctx.http.get(`/${ctx.config.key}/sent`, () => Response.json(sent.map((d) => Buffer.from(d.payload).toString())));
    return { start: async () => {}, stop: async () => {}, health: () => ({ status: 'up' as const }), send: async (d) => void sent.push(d) };
  },
});

let kit: TestIntegration | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
});

describe('startTestIntegration', () => {
  it('runs a plugin under the host lifecycle: health, converted and stored messages, dead letters, metrics', async () => {
    kit = await startTestIntegration(inbox, { key: 'k1' });
    expect(kit.healthHistory.slice(0, 2)).toEqual(['starting', 'up']);
    expect(kit.status().state).toBe('running');
    const ok = await kit.request('/k1', { method: 'POST', body: '{"device":"d1","values":{"t":21}}' });
    expect(ok.status).toBe(200);
    expect(await kit.embedded!.latestTelemetry('d1')).toMatchObject({ t: { value: 21 } });
    expect(await kit.ctx!.platform.getDevice('d1')).toMatchObject({ name: 'd1', integration: 'inbox-test' });
    const bad = await kit.request('/k1', { method: 'POST', body: '{"reject":true}' });
    expect(bad.status).toBe(400);
    expect(await kit.deadLetters()).toMatchObject([{ kind: 'THREW', payloadText: '{"reject":true}' }]);
    expect(kit.storedTexts()).toEqual(['{"device":"d1","values":{"t":21}}']);
    expect(await kit.metric('tbi_messages_stored_total')).toBe(1);
  });

  it('holds submits while the platform stalls and reports degraded while it fails', async () => {
    kit = await startTestIntegration(inbox, { key: 'k2' }, { platform: 'memory' });
    kit.platform.setMode('stall');
    const pending = kit.request('/k2', { method: 'POST', body: '{"values":{"a":1}}' });
    await kit.waitFor(() => kit!.platform.stalled === 1, 'the ingest stalls');
    expect(kit.stored()).toEqual([]);
    kit.platform.setMode('fail');
    await kit.waitFor(() => kit!.health().status === 'degraded', 'the host reports degraded');
    kit.platform.setMode('up');
    expect((await pending).status).toBe(200);
    await kit.waitFor(() => kit!.health().status === 'up', 'up again');
    expect(kit.healthHistory).toEqual(['starting', 'up', 'degraded', 'up']);
    expect(kit.platform.committed).toHaveLength(1);
  });

  it('delivers a downlink through the converter to send(), and refuses a config the schema rejects', async () => {
    kit = await startTestIntegration(inbox, { key: 'k3' });
    expect(await kit.downlink({ deviceName: 'd1', msg: { method: 'reboot' } })).toEqual({ ok: true });
    expect(await (await kit.request('/k3/sent')).json()).toEqual(['{"method":"reboot"}']);
    await expect(startTestIntegration(inbox, {})).rejects.toThrow('config.key: expected a key');
  });

  it('stops and restarts with the same folder; a stopped integration answers 503', async () => {
    kit = await startTestIntegration(inbox, { key: 'k4' });
    await kit.stop();
    await kit.stop();
    expect(kit.status().state).toBe('stopped');
    expect((await kit.request('/k4', { method: 'POST', body: '{}' })).status).toBe(503);
    await kit.start();
    expect((await kit.request('/k4', { method: 'POST', body: '{}' })).status).toBe(200);
  });

  it('failed() reads the status of an instance that cannot start while it is failed, between restart attempts', { timeout: 30_000 }, async () => {
    let starts = 0;
    const broken = definePlugin({
      type: 'broken',
      configSchema: anyConfig,
      downlink: 'none',
      create: () => ({
        start: async () => {
          starts += 1;
          throw new Error(`start ${starts} refused`);
        },
        stop: async () => {},
        health: () => ({ status: 'up' as const }),
      }),
    });
    kit = await startTestIntegration(broken, { key: 'k5' });
    const first = await kit.failed();
    expect(first.state).toBe('failed');
    expect(first.error).toMatch(/start \d+ refused/);
    // After the host's first restart attempt: still read while failed, never while starting.
    await kit.waitFor(() => starts >= 2, 'a restart attempt');
    const later = await kit.failed();
    expect(later.state).toBe('failed');
    expect(later.error).toMatch(/start \d+ refused/);
  });
});
