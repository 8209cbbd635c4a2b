import { randomUUID } from 'node:crypto';
import { isShutdownError } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { startTestIntegration, type TestIntegration, type TestIntegrationOptions } from '../test-integration.js';
import type { ConformanceOptions } from './conformance-options.js';

/** A payload the default converter stores as telemetry `n` of one device per case. */
export function conformancePayload(run: string, n: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ device: `dev-${run}`, values: { n }, id: `${run}#${n}`, ...extra });
}

const idsOf = (kit: TestIntegration) => kit.storedTexts().map((t) => (JSON.parse(t) as { id?: string }).id);
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Registers the conformance cases every connector must pass, as vitest tests, against the
 * connector's real source: it acknowledges only after `submit` resolved and nothing after
 * shutdown started; it honours pause/resume within a bound; `stop` is bounded and idempotent;
 * health goes starting → up → degraded (platform failing) → not up (broker gone) → up; a message
 * the converter rejects reaches the dead letters; a downlink is sent once; after a broker outage
 * it goes on without loss.
 *
 * @example
 * runConformanceSuite({
 *   plugin, redelivers: true, pause: { overshoot: 20 },
 *   config: (run) => ({ host: '127.0.0.1', port: 1883, cleanSession: false, topicFilters: [{ filter: `conf/${run}/#`, qos: 1 }] }),
 *   produce: (_kit, payloads, run) => publishAll(`conf/${run}/up`, payloads),
 * });
 */
export function runConformanceSuite<Config>(options: ConformanceOptions<Config>): void {
  const timeout = options.timeoutMs ?? 60_000;
  const stopWithin = options.stopWithinMs ?? 10_000;

  /** Starts the plugin for one case (fresh run id, unless `reuse` gives an earlier kit's folder and run). */
  async function start(label: string, extra: TestIntegrationOptions = {}, reuse?: { run: string }): Promise<{ kit: TestIntegration; run: string }> {
    const run = reuse?.run ?? `${label}-${randomUUID().slice(0, 8)}`;
    if (!reuse) await options.setup?.(run);
    const kit = await startTestIntegration(options.plugin, await options.config(run), { ...options.kit, ...extra });
    await ready(kit, run);
    return { kit, run };
  }

  async function ready(kit: TestIntegration, run: string, timeoutMs = 20_000): Promise<void> {
    if (kit.status().state === 'failed') throw new Error(`the integration failed to start: ${kit.status().error}`);
    if (options.ready) await options.ready(kit, run, timeoutMs);
    else
      await kit
        .waitFor(() => kit.health().status === 'up', 'the integration is up', timeoutMs)
        .catch((error: Error) => {
          const problems = kit.logger.entries.filter((e) => e.level === 'warn' || e.level === 'error').slice(-5);
          const explain = (p: (typeof problems)[number]) => {
            const err = (p.obj as { err?: unknown }).err;
            return `${p.msg}${err instanceof Error ? ` (${err.message})` : err === undefined ? '' : ` (${String(err)})`}`;
          };
          throw new Error(`${error.message}; health ${JSON.stringify(kit.health())}; last warnings: ${JSON.stringify(problems.map(explain))}`);
        });
  }

  describe(`conformance: ${options.plugin.type}`, () => {
    it('stores what the source delivers, converted in the real sandbox', { timeout }, async () => {
      const { kit, run } = await start('store');
      try {
        await options.produce(
          kit,
          [0, 1, 2].map((n) => conformancePayload(run, n)),
          run,
        );
        await kit.waitFor(() => kit.stored().length >= 3, 'three messages are stored');
        expect(new Set(idsOf(kit))).toEqual(new Set([0, 1, 2].map((n) => `${run}#${n}`)));
        expect(await kit.embedded?.latestTelemetry(`dev-${run}`)).toHaveProperty('n');
      } finally {
        await kit.close();
      }
    });

    it('acknowledges a message only after its submit resolved', { timeout }, async () => {
      const { kit, run } = await start('ack-after-submit');
      try {
        kit.platform.setMode('stall');
        await options.produce(kit, [conformancePayload(run, 0)], run);
        await kit.waitFor(() => kit.platform.stalled > 0, 'the message waits for the platform');
        await settle(300);
        if (options.acknowledged) expect(options.acknowledged(run)).toBe(0);
        kit.platform.setMode('up');
        await kit.waitFor(() => kit.stored().length === 1, 'the message is stored');
        if (options.acknowledged) await kit.waitFor(() => options.acknowledged!(run) === 1, 'it is acknowledged once stored');
        if (options.redelivers) {
          // Acknowledged after the store: a restart must not bring it back.
          await kit.restart();
          await ready(kit, run);
          await settle(1500);
          expect(idsOf(kit)).toEqual([`${run}#0`]);
        }
      } finally {
        await kit.close();
      }
    });

    const redelivery = options.redelivers ? '; the source delivers it again after a restart' : '';
    it(`acknowledges nothing once shutdown started${redelivery}`, { timeout }, async () => {
      const { kit, run } = await start('no-ack-on-shutdown', { drainMs: 200 });
      try {
        kit.platform.setMode('stall');
        await options.produce(kit, [conformancePayload(run, 0)], run);
        await kit.waitFor(() => kit.platform.stalled > 0, 'the message waits for the platform');
        const stopping = kit.stop();
        await kit.waitFor(() => kit.submits.some((s) => isShutdownError(s.error)), 'the open submit rejects with ShutdownError');
        kit.platform.setMode('fail'); // the batch in progress gives up, so the stop can end
        await stopping;
        expect(kit.stored()).toEqual([]);
        if (options.acknowledged) expect(options.acknowledged(run)).toBe(0);
        kit.platform.setMode('up');
        if (options.redelivers) {
          await kit.start();
          await ready(kit, run);
          await kit.waitFor(() => idsOf(kit).includes(`${run}#0`), 'the unacknowledged message is delivered again and stored');
        }
      } finally {
        await kit.close();
      }
    });

    if (options.pause !== false) {
      const { overshoot } = options.pause;
      it('pauses when the pipeline is full and resumes when it drains, without loss', { timeout }, async () => {
        const maxInFlight = 4;
        const { kit, run } = await start('pause', { maxInFlight });
        try {
          kit.platform.setMode('stall');
          const payloads = Array.from({ length: maxInFlight + overshoot + 20 }, (_, n) => conformancePayload(run, n));
          await options.produce(kit, payloads, run);
          await kit.waitFor(() => kit.platform.stalled > 0, 'the first messages wait for the platform');
          await settle(1000);
          const submitted = kit.submits.reduce((sum, s) => sum + s.messages.length, 0);
          expect(submitted).toBeLessThanOrEqual(maxInFlight + overshoot);
          kit.platform.setMode('up');
          await kit.waitFor(() => new Set(idsOf(kit)).size === payloads.length, `all ${payloads.length} messages are stored after resume`);
        } finally {
          await kit.close();
        }
      });
    }

    it('stops within a bound, and a second stop is harmless', { timeout }, async () => {
      const { kit } = await start('stop');
      try {
        const started = Date.now();
        await kit.stop();
        expect(Date.now() - started).toBeLessThan(stopWithin);
        expect(kit.status().state).toBe('stopped');
        const again = Date.now();
        await kit.integration!.stop();
        expect(Date.now() - again).toBeLessThan(stopWithin);
      } finally {
        await kit.close();
      }
    });

    it('reports health starting → up → degraded while the platform fails → up', { timeout }, async () => {
      const { kit, run } = await start('health');
      try {
        expect(kit.healthHistory.slice(0, 2)).toEqual(['starting', 'up']);
        kit.platform.setMode('fail');
        await options.produce(kit, [conformancePayload(run, 0)], run);
        await kit.waitFor(() => kit.health().status === 'degraded', 'health is degraded while the platform fails');
        kit.platform.setMode('up');
        await kit.waitFor(() => kit.stored().length === 1 && kit.health().status === 'up', 'stored and up again');
        await kit.stop();
        expect(kit.health().status).toBe('stopped');
      } finally {
        await kit.close();
      }
    });

    it('sends a message the converter rejects to the dead letters, and goes on', { timeout }, async () => {
      const { kit, run } = await start('dead-letter');
      try {
        await options.produce(kit, [conformancePayload(run, 0, { reject: true }), conformancePayload(run, 1)], run);
        await kit.waitFor(() => idsOf(kit).includes(`${run}#1`), 'the good message is stored');
        await kit.waitFor(async () => (await kit.deadLetters()).some((d) => d.payloadText?.includes(`${run}#0`) ?? false), 'the rejected one is a dead letter');
        expect((await kit.deadLetters())[0]).toMatchObject({ kind: 'THREW' });
      } finally {
        await kit.close();
      }
    });

    if (options.downlink) {
      const downlink = options.downlink;
      it('sends a downlink once', { timeout }, async () => {
        const { kit, run } = await start('downlink');
        const receiver = await downlink.listen(run, kit);
        try {
          const result = await kit.downlink({ deviceName: `dev-${run}`, msg: { method: 'setLed', run }, metadata: downlink.metadata(run) });
          expect(result).toEqual({ ok: true });
          await kit.waitFor(() => receiver.received().length > 0, 'the receiver got the downlink');
          await settle(1000);
          expect(receiver.received()).toEqual([JSON.stringify({ method: 'setLed', run })]);
        } finally {
          await receiver.close();
          await kit.close();
        }
      });
    }

    if (options.outage) {
      const outage = options.outage;
      it('after a broker outage: not up while it lasts, then up again without loss', { timeout: timeout * 2 }, async () => {
        const { kit, run } = await start('outage');
        try {
          await options.produce(
            kit,
            [0, 1].map((n) => conformancePayload(run, n)),
            run,
          );
          await kit.waitFor(() => kit.stored().length >= 2, 'the first messages are stored');
          await outage.stop();
          await kit.waitFor(() => kit.health().status !== 'up', 'health is no longer up', 30_000);
          expect(['degraded', 'down']).toContain(kit.health().status);
          await outage.start();
          // A consumer group may need a session timeout or two to settle after its broker came back.
          await ready(kit, run, 90_000);
          await options.produce(
            kit,
            [2, 3].map((n) => conformancePayload(run, n)),
            run,
          );
          await kit.waitFor(() => [0, 1, 2, 3].every((n) => idsOf(kit).includes(`${run}#${n}`)), 'every message is stored', 45_000);
        } finally {
          await kit.close();
        }
      });
    }
  });
}
