import { afterEach, describe, expect, it } from 'vitest';
import { collectCommands, item, record, tempPlatform } from './helpers.js';

type Env = Awaited<ReturnType<typeof tempPlatform>>;
let env: Env;
afterEach(async () => env?.cleanup());

async function withDevice(options: Parameters<typeof tempPlatform>[0] = {}) {
  env = await tempPlatform(options);
  await env.platform.ingest([item([record('valve-7', { deviceType: 'valve' })], undefined, 'mqtt-1')]);
  return env;
}

/** Waits until `check` passes (commands are emitted synchronously, but replies need an ingest). */
async function eventually(check: () => void, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

describe('attributes', () => {
  it('writes shared attributes and emits ATTRIBUTES_UPDATED to the owning integration', async () => {
    const { platform, clock } = await withDevice();
    const commands = collectCommands(platform);
    const result = await platform.setAttributes('valve-7', 'shared', { target: 21.5, mode: 'eco' });
    expect(result).toEqual({ updated: 2, commandId: expect.any(String) });
    expect(commands).toEqual([
      {
        id: result.commandId,
        deviceName: 'valve-7',
        integration: 'mqtt-1',
        msgType: 'ATTRIBUTES_UPDATED',
        msg: { target: 21.5, mode: 'eco' },
        metadata: { deviceName: 'valve-7', deviceType: 'valve', scope: 'SHARED_SCOPE' },
      },
    ]);
    expect(platform.getAttributes('valve-7', 'shared')).toEqual([
      { key: 'mode', value: 'eco', lastUpdateTs: clock.now() },
      { key: 'target', value: 21.5, lastUpdateTs: clock.now() },
    ]);
    expect(platform.listCommands('valve-7')).toMatchObject([{ id: result.commandId, status: 'queued', msgType: 'ATTRIBUTES_UPDATED' }]);
    platform.commandResult(result.commandId!, { ok: true });
    expect(platform.getCommand(result.commandId!)?.status).toBe('delivered');
  });

  it('writes server attributes without a downlink and keeps scopes apart', async () => {
    const { platform } = await withDevice();
    const commands = collectCommands(platform);
    await platform.ingest([item([record('valve-7', { attributes: { k: 'client' } })])]);
    expect(await platform.setAttributes('valve-7', 'server', { k: 'server', nested: { a: [1, 2] } })).toEqual({ updated: 2 });
    await platform.setAttributes('valve-7', 'SHARED_SCOPE' as 'shared', { k: 'shared' });
    expect(platform.getAttributes('valve-7', 'client').map((a) => a.value)).toEqual(['client']);
    expect(platform.getAttributes('valve-7', 'server').map((a) => [a.key, a.value])).toEqual([
      ['k', 'server'],
      ['nested', { a: [1, 2] }],
    ]);
    expect(platform.getAttributes('valve-7', 'shared', ['k']).map((a) => a.value)).toEqual(['shared']);
    expect(commands.map((c) => c.msgType)).toEqual(['ATTRIBUTES_UPDATED']);
  });

  it('refuses client-scope writes, bad scopes, empty values and unknown devices', async () => {
    const { platform } = await withDevice();
    await expect(platform.setAttributes('valve-7', 'client', { a: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(platform.setAttributes('valve-7', 'global' as 'shared', { a: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(platform.setAttributes('valve-7', 'shared', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(platform.setAttributes('nope', 'shared', { a: 1 })).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
    expect(() => platform.getAttributes('nope', 'client')).toThrow(expect.objectContaining({ code: 'DEVICE_NOT_FOUND' }));
  });
});

describe('rpc', () => {
  it('one-way: stores the command, emits it with ThingsBoard metadata and resolves at once', async () => {
    const { platform, clock } = await withDevice();
    const commands = collectCommands(platform);
    const { requestId, response } = await platform.sendRpc('valve-7', { method: 'open', params: { pct: 40 }, oneway: true, timeoutMs: 5000 });
    expect(response).toBeUndefined();
    expect(commands).toEqual([
      {
        id: requestId,
        deviceName: 'valve-7',
        integration: 'mqtt-1',
        msgType: 'RPC_CALL_FROM_SERVER_TO_DEVICE',
        msg: { method: 'open', params: { pct: 40 } },
        metadata: {
          deviceName: 'valve-7',
          deviceType: 'valve',
          requestUUID: requestId,
          expirationTime: String(clock.now() + 5000),
          oneway: 'true',
        },
      },
    ]);
    platform.commandResult(requestId, { ok: false, error: 'broker down' });
    expect(platform.getCommand(requestId)).toMatchObject({ status: 'failed', error: 'broker down', oneway: true });
  });

  it('two-way: resolves with the reply carried by an ingested record', async () => {
    const { platform } = await withDevice();
    const commands = collectCommands(platform);
    const call = platform.sendRpc('valve-7', { method: 'getState', timeoutMs: 20_000 });
    await eventually(() => expect(commands).toHaveLength(1));
    const command = commands[0]!;
    expect(command.metadata).toMatchObject({ oneway: 'false', requestUUID: command.id });
    platform.commandResult(command.id, { ok: true });
    expect(platform.getCommand(command.id)?.status).toBe('delivered');
    // A reply from another device does not count.
    await platform.ingest([item([record('intruder', { rpcReplies: [{ requestId: command.id, response: 'fake' }] })])]);
    await platform.ingest([item([record('valve-7', { rpcReplies: [{ requestId: command.id, response: { open: 40 } }] })])]);
    await expect(call).resolves.toEqual({ requestId: command.id, response: { open: 40 } });
    expect(platform.getCommand(command.id)).toMatchObject({ status: 'replied', response: { open: 40 } });
  });

  it('two-way: rejects with RPC_TIMEOUT and marks the command expired', async () => {
    const { platform } = await withDevice();
    collectCommands(platform);
    const error = await platform.sendRpc('valve-7', { method: 'slow', timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RPC_TIMEOUT' });
    const [command] = platform.listCommands('valve-7');
    expect(command).toMatchObject({ status: 'expired', msg: { method: 'slow', params: {} } });
    // A late reply does not revive it.
    await platform.ingest([item([record('valve-7', { rpcReplies: [{ requestId: command!.id, response: 1 }] })])]);
    expect(platform.getCommand(command!.id)?.status).toBe('expired');
  });

  it('two-way: rejects at once with RPC_DELIVERY_FAILED when the host cannot deliver it', async () => {
    const { platform } = await withDevice();
    platform.onCommand((c) => platform.commandResult(c.id, { ok: false, error: 'no downlink converter' }));
    await expect(platform.sendRpc('valve-7', { method: 'm', timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'RPC_DELIVERY_FAILED' });
  });

  it('hands commands still queued at start-up to a new subscriber, not expired or delivered ones', async () => {
    const { platform, clock } = await withDevice();
    const a = await platform.sendRpc('valve-7', { method: 'a', oneway: true, timeoutMs: 60_000 });
    const b = await platform.setAttributes('valve-7', 'shared', { x: 1 });
    const c = await platform.sendRpc('valve-7', { method: 'c', oneway: true, timeoutMs: 1000 });
    const d = await platform.sendRpc('valve-7', { method: 'd', oneway: true, timeoutMs: 60_000 });
    platform.commandResult(d.requestId, { ok: true });
    await platform.close();
    clock.advance(2000);
    const reopened = await env.reopen();
    try {
      const seen = collectCommands(reopened);
      // Sent right after subscribing: emitted once, not replayed with the backlog too.
      const e = await reopened.sendRpc('valve-7', { method: 'e', oneway: true });
      await eventually(() => expect(seen.map((s) => s.id)).toEqual([e.requestId, a.requestId, b.commandId]));
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toHaveLength(3);
      expect(seen[1]).toMatchObject({ integration: 'mqtt-1', msg: { method: 'a' } });
      expect(seen.map((s) => s.id)).not.toContain(c.requestId);
    } finally {
      await reopened.close();
    }
  });

  it('validates the request and the device', async () => {
    const { platform } = await withDevice();
    await expect(platform.sendRpc('valve-7', { method: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(platform.sendRpc('valve-7', { method: 'm', timeoutMs: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(platform.sendRpc('nope', { method: 'm' })).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
  });

  it('rejects waiting two-way calls with ShutdownError on close', async () => {
    const { platform } = await withDevice();
    const call = platform.sendRpc('valve-7', { method: 'm', timeoutMs: 60_000 });
    await new Promise((r) => setImmediate(r));
    await platform.close();
    await expect(call).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });
});
