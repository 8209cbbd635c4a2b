// Acceptance (issue 4): an RPC posted to the platform's REST API reaches the integration that
// carries the device, through its downlink converter; a two-way RPC's reply (an uplink whose
// converter returns `rpcReply`) comes back to the caller.
import { afterEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { createPlatformRoutes } from '@tbi/platform-embedded';
import type { Integration, OutboundDownlink } from '@tbi/plugin-api';
import { until } from './pipeline-support/fakes.js';
import { DOWNLINK, json, realPipeline, UPLINK } from './pipeline-support/real-pipeline.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(device: (downlink: OutboundDownlink) => Promise<void>) {
  const env = await realPipeline();
  cleanups.push(() => env.close());
  const channel = env.pipeline.attach({
    name: 'mqtt-1',
    type: 'mqtt',
    metadata: { region: 'eu' },
    uplink: await env.sandbox.uplink('up', UPLINK),
    downlink: await env.sandbox.downlink('down', DOWNLINK),
    downlinkMode: 'push',
  });
  const sent: OutboundDownlink[] = [];
  const connector: Integration = {
    start: async () => {},
    stop: async () => {},
    health: () => ({ status: 'up' }),
    send: async (downlink) => {
      sent.push(downlink);
      await device(downlink);
    },
  };
  channel.bind(connector);
  // The device's first uplink tells the platform which integration carries it.
  await channel.uplink.submit([{ payload: json({ device: 'valve-3', t: 1 }), metadata: {} }]);
  const api = new Hono();
  api.route('/api', createPlatformRoutes(env.platform));
  return { ...env, channel, sent, api };
}

const post = (api: Hono, path: string, body: unknown) =>
  api.request(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('RPC through the pipeline (real embedded platform, real sandbox)', () => {
  it('delivers a two-way RPC through the downlink converter and returns the device reply to the caller', async () => {
    let channelRef: Awaited<ReturnType<typeof setup>>['channel'] | undefined;
    const env = await setup(async (downlink) => {
      // The "device" answers asynchronously, as an uplink carrying the request id.
      const request = JSON.parse(Buffer.from(downlink.payload).toString()) as { id: string; method: string; params: { open: boolean } };
      setTimeout(() => {
        void channelRef!.uplink.submit([
          { payload: json({ device: 'valve-3', t: 2, reply: request.id, response: { open: request.params.open, ok: true } }), metadata: {} },
        ]);
      }, 20);
    });
    channelRef = env.channel;
    const res = await post(env.api, '/api/devices/valve-3/rpc', { method: 'setValve', params: { open: true }, timeoutMs: 20_000 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { requestId: string; response: unknown };
    expect(body.response).toEqual({ open: true, ok: true });
    expect(env.sent).toHaveLength(1);
    expect(env.sent[0]).toMatchObject({
      commandId: body.requestId,
      deviceName: 'valve-3',
      encoded: { contentType: 'JSON', metadata: { topic: 'cmd/valve-3' } },
    });
    expect(JSON.parse(Buffer.from(env.sent[0]!.payload).toString())).toEqual({ id: body.requestId, method: 'setValve', params: { open: true } });
    expect(env.metrics.value('tbi_downlinks_sent_total', { integration: 'mqtt-1' })).toBe(1);
  });

  it('marks a one-way RPC delivered, and fails the caller at once when sending fails', async () => {
    let fail = false;
    const env = await setup(async () => {
      if (fail) throw new Error('broker connection lost');
    });
    const res = await post(env.api, '/api/devices/valve-3/rpc', { method: 'blink', oneway: true });
    const { requestId } = (await res.json()) as { requestId: string };
    await until(() => env.platform.getCommand(requestId)?.status === 'delivered', 10_000, 'the command to be delivered');

    fail = true;
    const failed = await post(env.api, '/api/devices/valve-3/rpc', { method: 'blink', timeoutMs: 60_000 });
    const body = (await failed.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('RPC_DELIVERY_FAILED');
    expect(body.error.message).toContain('broker connection lost');
    expect(env.sent.length).toBe(4); // one, then three attempts
  });
});
