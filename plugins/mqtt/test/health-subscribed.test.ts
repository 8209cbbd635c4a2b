// Health is not `up` before the broker granted the subscriptions: a sender that waits for `up`
// (readiness, the conformance suite) and then publishes must not lose what it sent in between.
import { startTestIntegration } from '@tbi/plugin-testkit';
import { afterEach, describe, expect, it } from 'vitest';
import plugin from '../src/plugin.js';
import { broker, SHARED_PORTS } from './broker.js';

const kits: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(kits.splice(0).map((k) => k.close()));
});

describe('mqtt health and SUBACK', () => {
  it('reports starting, not up, between CONNACK and SUBACK', async () => {
    await broker().start();
    const kit = await startTestIntegration(
      plugin,
      { host: '127.0.0.1', port: SHARED_PORTS.plain, cleanSession: true, topicFilters: [{ filter: `tbi-health/${Date.now()}/#`, qos: 1 }] },
      { start: false },
    );
    kits.push(kit);
    // Look at health on every turn of the event loop while it starts: the CONNACK and the SUBACK
    // arrive in different turns, so a status `up` before the SUBACK would be seen.
    const seen: Array<{ status: string; subscribed: boolean }> = [];
    let watching = true;
    const look = () => {
      if (kit.integration) seen.push({ status: kit.health().status, subscribed: kit.logger.entries.some((e) => e.msg === 'subscribed') });
    };
    const watch = () => {
      if (!watching) return;
      look();
      setImmediate(watch);
    };
    watch();
    await kit.start();
    look(); // start resolves at the first CONNACK
    await kit.waitFor(() => kit.health().status === 'up' && kit.logger.entries.some((e) => e.msg === 'subscribed'), 'up and subscribed', 20_000);
    watching = false;
    expect(seen.some((s) => s.status === 'up')).toBe(true);
    expect(seen.filter((s) => s.status === 'up' && !s.subscribed)).toEqual([]);
    expect(kit.logger.entries.some((e) => e.msg === 'subscribed')).toBe(true);
  });
});
