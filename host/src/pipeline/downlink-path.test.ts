import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError, type DownlinkRequest, type Integration, type OutboundDownlink, type PlatformCommand } from '@tbi/plugin-api';
import { functionConverter, functionDownlinkConverter, jsonDecode, until } from '../../test/pipeline-support/fakes.js';
import { unitPipeline } from '../../test/pipeline-support/unit-pipeline.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const rpc = (id: string, integration: string | undefined, metadata: Record<string, string> = {}): PlatformCommand => ({
  id,
  deviceName: 'dev-1',
  ...(integration ? { integration } : {}),
  msgType: 'RPC_CALL_FROM_SERVER_TO_DEVICE',
  msg: { method: 'setLed', params: { on: true } },
  metadata: { deviceName: 'dev-1', requestUUID: id, ...metadata },
});

const seen: DownlinkRequest[] = [];
const encoder = functionDownlinkConverter((request) => {
  seen.push(request);
  if ((request.msg as { method: string }).method === 'explode') {
    return { ok: false, error: { kind: 'THREW', message: 'explode is not supported' }, logs: [] };
  }
  return { ok: true, encoded: { contentType: 'JSON', data: JSON.stringify(request.msg), metadata: { topic: `cmd/${request.metadata.deviceName}` } }, logs: [] };
});

function pushIntegration(send: (d: OutboundDownlink) => Promise<void>): Integration {
  return { start: async () => {}, stop: async () => {}, health: () => ({ status: 'up' }), send };
}

async function setup(mode: 'push' | 'pull') {
  const env = await unitPipeline();
  cleanups.push(() => env.pipeline.close());
  const channel = env.pipeline.attach({
    name: 'mqtt-1',
    type: 'mqtt',
    metadata: { region: 'eu' },
    uplink: functionConverter(jsonDecode),
    downlink: encoder,
    downlinkMode: mode,
    debug: { mode: 'all' },
  });
  return { ...env, channel };
}

describe('downlinks', () => {
  it('push: runs the downlink converter and sends through the integration, then reports success', async () => {
    const { platform, channel, metrics } = await setup('push');
    const sent: OutboundDownlink[] = [];
    channel.bind(pushIntegration(async (d) => void sent.push(d)));
    platform.command(rpc('c1', 'mqtt-1'));
    await until(() => platform.results.length === 1);
    expect(platform.results[0]).toEqual({ id: 'c1', result: { ok: true } });
    expect(sent[0]).toMatchObject({ commandId: 'c1', deviceName: 'dev-1', encoded: { contentType: 'JSON', metadata: { topic: 'cmd/dev-1' } } });
    expect(Buffer.from(sent[0]!.payload).toString()).toBe('{"method":"setLed","params":{"on":true}}');
    expect(seen.at(-1)).toMatchObject({ msgType: 'RPC_CALL_FROM_SERVER_TO_DEVICE', integrationMetadata: { region: 'eu', integrationName: 'mqtt-1' } });
    expect(metrics.value('tbi_downlinks_sent_total', { integration: 'mqtt-1' })).toBe(1);
  });

  it('push: retries a failing send, and gives up on a non-retryable error', async () => {
    const { platform, channel, metrics } = await setup('push');
    let calls = 0;
    channel.bind(
      pushIntegration(async (d) => {
        calls++;
        if (d.commandId === 'c1' && calls < 3) throw new DeliveryError('broker busy');
        if (d.commandId === 'c2') throw new DeliveryError('topic not allowed', { retryable: false });
      }),
    );
    platform.command(rpc('c1', 'mqtt-1'));
    await until(() => platform.results.length === 1);
    expect(platform.results[0]!.result).toEqual({ ok: true });
    expect(calls).toBe(3);
    platform.command(rpc('c2', 'mqtt-1'));
    await until(() => platform.results.length === 2);
    expect(calls).toBe(4);
    expect(platform.results[1]!.result).toEqual({ ok: false, error: 'sending the downlink failed: topic not allowed' });
    expect(metrics.value('tbi_downlinks_failed_total', { integration: 'mqtt-1' })).toBe(1);
  });

  it("push: an instance's downlinkRetry replaces the host's attempts, and its last error fails the command", async () => {
    const { platform, channel } = await setup('push');
    let calls = 0;
    channel.bind({
      ...pushIntegration(async () => {
        calls++;
        throw new DeliveryError('downlink URL answered 503');
      }),
      downlinkRetry: { attempts: 5, initialDelayMs: 1, maxDelayMs: 2 },
    });
    platform.command(rpc('c5', 'mqtt-1'));
    await until(() => platform.results.length === 1);
    expect(calls).toBe(5);
    expect(platform.results[0]!.result).toEqual({ ok: false, error: 'sending the downlink failed: downlink URL answered 503' });
  });

  it('a failing downlink converter fails the command and records a debug event', async () => {
    const { platform, channel, pipeline } = await setup('push');
    channel.bind(pushIntegration(async () => {}));
    platform.command({ ...rpc('c3', 'mqtt-1'), msg: { method: 'explode' } });
    await until(() => platform.results.length === 1);
    expect(platform.results[0]!.result).toEqual({ ok: false, error: 'downlink converter failed (THREW): explode is not supported' });
    const body = (await (await pipeline.routes().request('/integrations/mqtt-1/events?type=downlink')).json()) as {
      events: { status: string; error: { message: string } }[];
    };
    expect(body.events[0]).toMatchObject({ status: 'failed', error: { message: 'explode is not supported' } });
  });

  it('fails a command whose device no running integration carries', async () => {
    const { platform } = await setup('push');
    platform.command(rpc('c4', undefined));
    platform.command(rpc('c5', 'gone'));
    expect(platform.results).toEqual([
      { id: 'c4', result: { ok: false, error: 'no integration carries device dev-1' } },
      { id: 'c5', result: { ok: false, error: 'integration gone, which carries device dev-1, is not running' } },
    ]);
  });

  it('pull: keeps downlinks per device until taken, then reports success; expired ones fail', async () => {
    const { platform, channel } = await setup('pull');
    platform.command(rpc('c6', 'mqtt-1'));
    platform.command(rpc('c7', 'mqtt-1', { expirationTime: String(Date.now() - 1) }));
    platform.command(rpc('c8', 'mqtt-1'));
    await until(() => channel.status().pendingDownlinkDevices === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(platform.results).toEqual([]);
    expect(channel.downlinks.take('other')).toBeUndefined();
    expect(channel.downlinks.take('dev-1')?.commandId).toBe('c6');
    expect(channel.downlinks.take('dev-1')?.commandId).toBe('c8');
    expect(channel.downlinks.take('dev-1')).toBeUndefined();
    expect(platform.results).toEqual([
      { id: 'c6', result: { ok: true } },
      { id: 'c7', result: { ok: false, error: 'downlink not delivered: expired before the device called' } },
      { id: 'c8', result: { ok: true } },
    ]);
  });

  it("an instance's downlinkMode overrides the plugin's: pull with its own per-device limit", async () => {
    const { platform, channel } = await setup('push');
    const sent: OutboundDownlink[] = [];
    channel.bind({ ...pushIntegration(async (d) => void sent.push(d)), downlinkMode: 'pull', downlinkPendingPerDevice: 1 });
    platform.command(rpc('p1', 'mqtt-1'));
    platform.command(rpc('p2', 'mqtt-1'));
    await until(() => platform.results.length === 1);
    expect(platform.results[0]).toEqual({ id: 'p1', result: { ok: false, error: 'downlink not delivered: replaced by newer downlinks for the device' } });
    expect(channel.downlinks.take('dev-1')?.commandId).toBe('p2');
    expect(platform.results[1]).toEqual({ id: 'p2', result: { ok: true } });
    expect(sent).toEqual([]);
  });

  it('pull: downlinks still waiting when the integration stops fail', async () => {
    const { platform, channel } = await setup('pull');
    platform.command(rpc('c9', 'mqtt-1'));
    await until(() => channel.status().pendingDownlinkDevices === 1);
    await channel.detach();
    expect(platform.results).toEqual([{ id: 'c9', result: { ok: false, error: 'downlink not delivered: integration mqtt-1 stopped' } }]);
  });
});
