// Health is not `up` before the broker granted the subscriptions: a sender that waits for `up`
// (readiness, the conformance suite) and then publishes must not lose what it sent in between.
import { startTestIntegration, type TestIntegration } from '@tbi/plugin-testkit';
import { afterEach, describe, expect, it } from 'vitest';
import plugin from '../src/plugin.js';
import { broker, SHARED_PORTS, testClient } from './broker.js';

const kits: TestIntegration[] = [];
afterEach(async () => {
  await Promise.all(kits.splice(0).map((k) => k.close()));
});

const count = (kit: TestIntegration, msg: string) => kit.logger.entries.filter((e) => e.msg === msg).length;

/** Samples health and log counts on every turn of the event loop (a CONNACK and its SUBACK arrive in different turns). */
function watch(kit: TestIntegration) {
  const seen: Array<{ status: string; subscribed: number; reconnected: number }> = [];
  let on = true;
  const look = () => {
    if (kit.integration)
      seen.push({ status: kit.health().status, subscribed: count(kit, 'subscribed'), reconnected: count(kit, 'reconnected to the MQTT broker') });
  };
  const loop = () => {
    if (!on) return;
    look();
    setImmediate(loop);
  };
  loop();
  return { seen, look, stop: () => void (on = false) };
}

describe('mqtt health and SUBACK', () => {
  it('is up only once subscribed: start resolves after the first SUBACK', async () => {
    await broker().start();
    const config = { host: '127.0.0.1', port: SHARED_PORTS.plain, cleanSession: true, topicFilters: [{ filter: `tbi-health/${Date.now()}/#`, qos: 1 }] };
    const kit = await startTestIntegration(plugin, config, { start: false });
    kits.push(kit);
    const w = watch(kit);
    await kit.start();
    w.look();
    w.stop();
    expect(kit.health().status).toBe('up');
    expect(w.seen.filter((s) => s.status === 'up' && s.subscribed === 0)).toEqual([]);
  });

  it('after a reconnection, is degraded (not up) until the new session is subscribed', async () => {
    await broker().start();
    const clientId = `tbi-health-${Date.now()}`;
    const config = {
      host: '127.0.0.1',
      port: SHARED_PORTS.plain,
      clientId,
      cleanSession: true,
      topicFilters: [{ filter: `tbi-health/${clientId}/#`, qos: 1 }],
      reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
    };
    const kit = await startTestIntegration(plugin, config);
    kits.push(kit);
    expect(kit.health().status).toBe('up');
    const w = watch(kit);
    // Another client with the same id takes the session over: the broker drops ours, which
    // reconnects (clean session: it has to subscribe again) and takes it back.
    const thief = await testClient({ clientId, protocolVersion: 4, clean: true });
    await thief.endAsync(true);
    await kit.waitFor(() => count(kit, 'subscribed') >= 2 && kit.health().status === 'up', 'reconnected and subscribed again', 20_000);
    w.stop();
    const between = w.seen.filter((s) => s.reconnected > 0 && s.subscribed < 2);
    expect(between.length).toBeGreaterThan(0);
    expect(between.filter((s) => s.status === 'up')).toEqual([]);
    expect(between.map((s) => s.status)).toContain('degraded');
  });
});
