// Live traffic for the Kafka bench's latency measurements: records produced at a steady rate.
import { Producer } from '@platformatic/kafka';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Produces `{"t","h","n"}` records keyed `<keyPrefix>-<n % 100>` to partition 0 of `topic` at
 * `rate` records/s (one send every 10 ms, acks=all) until `done()`; resolves with each record's
 * send time (epoch ms) by its sourceId (`topic/0/offset`), to set against stored_at.
 * @param {string[]} brokers
 * @param {string} topic a 1-partition topic
 * @param {number} rate
 * @param {(sentTicks: number) => boolean} done asked before each send
 * @param {string} keyPrefix
 * @returns {Promise<Map<string, number>>}
 */
export async function produceLive(brokers, topic, rate, done, keyPrefix = 'dev') {
  const producer = new Producer({ clientId: 'bench-live', bootstrapBrokers: brokers, idempotent: true, acks: -1 });
  const sentAt = new Map();
  const perTick = Math.max(1, Math.round(rate / 100));
  const started = Date.now();
  let n = 0;
  for (let t = 0; !done(t); t++) {
    const messages = [];
    for (let j = 0; j < perTick; j++, n++)
      messages.push({ topic, key: Buffer.from(`${keyPrefix}-${n % 100}`), value: Buffer.from(`{"t":21.5,"h":40,"n":${n}}`) });
    const sending = Date.now();
    const result = await producer.send({ messages });
    const base = result.offsets[0].offset;
    for (let j = 0; j < perTick; j++) sentAt.set(`${topic}/0/${base + BigInt(j)}`, sending);
    const wait = started + (t + 1) * 10 - Date.now();
    if (wait > 0) await sleep(wait);
  }
  await producer.close();
  return sentAt;
}
