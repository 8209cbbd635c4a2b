import { DeliveryError, type OutboundDownlink } from '@tbi/plugin-api';

interface Entry {
  downlink: OutboundDownlink;
  delivered: () => void;
  dropped: (error: DeliveryError) => void;
}

/**
 * Downlinks waiting for their device's next uplink (synchronous mode), oldest first, per device.
 *
 * `add` returns a promise that settles with the downlink's fate, so the host records the real
 * outcome of the command: it resolves when an uplink response carries the downlink, and rejects
 * with a non-retryable `DeliveryError` when newer downlinks push it out (beyond `maxPerDevice`)
 * or the integration stops. In memory, as in ThingsBoard: a restart fails what waits.
 */
export class PendingResponses {
  readonly #byDevice = new Map<string, Entry[]>();

  constructor(private readonly maxPerDevice: number) {}

  /** Queues a downlink; the promise settles when it is delivered or dropped. */
  add(downlink: OutboundDownlink): Promise<void> {
    return new Promise<void>((delivered, dropped) => {
      let queue = this.#byDevice.get(downlink.deviceName);
      if (queue === undefined) {
        queue = [];
        this.#byDevice.set(downlink.deviceName, queue);
      }
      queue.push({ downlink, delivered, dropped });
      while (queue.length > this.maxPerDevice) {
        drop(queue.shift(), `more than ${this.maxPerDevice} downlinks wait for the device; the oldest was dropped`);
      }
    });
  }

  /** Removes and returns the oldest downlink for the device, counting it as delivered. */
  take(deviceName: string): OutboundDownlink | undefined {
    const queue = this.#byDevice.get(deviceName);
    const next = queue?.shift();
    if (queue !== undefined && queue.length === 0) this.#byDevice.delete(deviceName);
    next?.delivered();
    return next?.downlink;
  }

  /** How many downlinks wait, over all devices. */
  get size(): number {
    let n = 0;
    for (const q of this.#byDevice.values()) n += q.length;
    return n;
  }

  /** Fails everything that waits (the integration stops); returns how many there were. */
  clear(reason: string): number {
    const all = [...this.#byDevice.values()].flat();
    this.#byDevice.clear();
    for (const entry of all) drop(entry, reason);
    return all.length;
  }
}

function drop(entry: Entry | undefined, reason: string): void {
  if (entry === undefined) return;
  const { deviceName, commandId } = entry.downlink;
  entry.dropped(new DeliveryError(`downlink not delivered: ${reason}`, { retryable: false, context: { deviceName, commandId } }));
}
