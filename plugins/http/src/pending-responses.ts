import type { OutboundDownlink } from '@tbi/plugin-api';

/**
 * Downlinks waiting for their device's next uplink (synchronous mode), oldest first, per device.
 * In memory, as in ThingsBoard: a restart loses them. Beyond `maxPerDevice` the oldest is
 * dropped and returned so the caller can report it.
 */
export class PendingResponses {
  readonly #byDevice = new Map<string, OutboundDownlink[]>();

  constructor(private readonly maxPerDevice: number) {}

  /** Queues a downlink; returns the one dropped to make room, if any. */
  add(downlink: OutboundDownlink): OutboundDownlink | undefined {
    let queue = this.#byDevice.get(downlink.deviceName);
    if (queue === undefined) {
      queue = [];
      this.#byDevice.set(downlink.deviceName, queue);
    }
    queue.push(downlink);
    return queue.length > this.maxPerDevice ? queue.shift() : undefined;
  }

  /** Removes and returns the oldest downlink for the device. */
  take(deviceName: string): OutboundDownlink | undefined {
    const queue = this.#byDevice.get(deviceName);
    const next = queue?.shift();
    if (queue !== undefined && queue.length === 0) this.#byDevice.delete(deviceName);
    return next;
  }

  /** How many downlinks wait, over all devices. */
  get size(): number {
    let n = 0;
    for (const q of this.#byDevice.values()) n += q.length;
    return n;
  }

  /** Empties the store and returns everything that was in it. */
  drain(): OutboundDownlink[] {
    const all = [...this.#byDevice.values()].flat();
    this.#byDevice.clear();
    return all;
  }
}
