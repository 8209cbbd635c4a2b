// The plugin kit's conformance suite for the HTTP connector, in process: webhook calls go to the
// integration's router as the host would hand them over, and the answer to the sender is the
// acknowledgement (200 only once stored). Downlinks go to a real local HTTP server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runConformanceSuite } from '@tbi/plugin-testkit/conformance';
import { afterAll, beforeAll } from 'vitest';
import plugin from '../src/plugin.js';

/** Answers to webhook calls per case, for `acknowledged`. */
const answers = new Map<string, number[]>();
/** Bodies the downlink receiver got per case. */
const downlinks = new Map<string, string[]>();
let receiver: Server;
let receiverUrl = '';

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const run = decodeURIComponent(req.url?.split('/')[2] ?? '');
      downlinks.set(run, [...(downlinks.get(run) ?? []), Buffer.concat(chunks).toString()]);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

runConformanceSuite({
  plugin,
  // A webhook sender retries on its own when it does not get 200; nothing is redelivered.
  redelivers: false,
  // Every request is its own submit: there is nothing to pause (a sender waits for its answer).
  pause: false,
  config: (run) => ({ routingKey: run, responseTimeoutMs: 20_000, downlink: { url: `${receiverUrl}/down/${run}`, retries: 0 } }),
  async produce(kit, payloads, run) {
    for (const body of payloads) {
      // Not awaited: the request is answered only when its message is stored (or refused).
      void kit.request(`/${run}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then((res) => {
        answers.set(run, [...(answers.get(run) ?? []), res.status]);
      });
    }
  },
  acknowledged: (run) => (answers.get(run) ?? []).filter((s) => s >= 200 && s < 300).length,
  downlink: {
    metadata: () => ({}),
    async listen(run) {
      return { received: () => downlinks.get(run) ?? [], close: async () => {} };
    },
  },
});
