// What the source gathered while the pipeline held it paused must not all go in at once on
// resume: the suite's pause case counts only what was submitted while paused, this one what is in
// flight right after the resume. In process (the plugin kit), against the real RabbitMQ node.
import { conformancePayload } from '@tbi/plugin-testkit/conformance';
import { startTestIntegration } from '@tbi/plugin-testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import plugin from '../src/plugin.js';
import { AMQP_PORT, brokerScript, deleteQueues, publish, readyCount, unique, URL, waitFor } from './harness.js';

beforeAll(() => brokerScript('start'), 240_000);

describe('back-pressure', () => {
  it('resumes one batch at a time: a paused source does not flood the pipeline with what it gathered', { timeout: 60_000 }, async () => {
    const run = unique('resume');
    const queue = `${run}-q`;
    const maxInFlight = 4;
    const maxBatch = 5;
    const kit = await startTestIntegration(
      plugin,
      {
        port: AMQP_PORT,
        username: 'tbi',
        password: 'tbi-secret',
        uplink: { queues: [queue], prefetch: 50, maxBatch },
        topology: { queues: [{ name: queue }] },
      },
      { maxInFlight },
    );
    const open = () => kit.submits.filter((s) => s.outcomes === undefined && s.error === undefined).reduce((n, s) => n + s.messages.length, 0);
    let mostOpen = 0;
    const sampler = setInterval(() => (mostOpen = Math.max(mostOpen, open())), 1);
    try {
      await kit.waitFor(() => kit.health().status === 'up', 'up');
      kit.platform.setMode('stall');
      const payloads = Array.from({ length: 60 }, (_, n) => conformancePayload(run, n));
      await publish(
        '',
        queue,
        payloads.map((body) => ({ body })),
        URL,
      );
      // Paused with one batch in the pipeline; the broker has sent the rest of the prefetch window.
      await waitFor(async () => (await readyCount(queue)) === payloads.length - 50, 20_000, 'the broker sent 50 (the prefetch)');
      await new Promise((resolve) => setTimeout(resolve, 200));
      mostOpen = 0;
      kit.platform.setMode('up');
      await kit.waitFor(() => kit.stored().length === payloads.length, 'all 60 stored');
      // One batch may go in after the resume (the pipeline resumes at half of maxInFlight).
      expect(mostOpen).toBeLessThanOrEqual(maxInFlight + maxBatch);
    } finally {
      clearInterval(sampler);
      await kit.close();
      await deleteQueues(queue);
    }
  });
});
