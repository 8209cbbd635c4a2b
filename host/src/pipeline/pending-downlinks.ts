import type { OutboundDownlink, PendingDownlinks } from '@tbi/plugin-api';

interface Entry {
  outbound: OutboundDownlink;
  /** Epoch ms after which the downlink is no longer worth delivering (RPC `expirationTime`). */
  expiresAt: number | undefined;
}

export interface PendingDownlinkOptions {
  /** Downlinks kept per device; a newer one pushes the oldest out (default 10). Read at every `add`: the instance may set it. */
  perDevice?: () => number | undefined;
  /** Devices with waiting downlinks; the device that waited longest is dropped first (default 10 000). */
  maxDevices?: number;
  now: () => number;
  /** The downlink went to the connector. */
  onTaken(outbound: OutboundDownlink): void;
  /** The downlink will never be delivered: pushed out, expired, or the integration stopped. */
  onDropped(outbound: OutboundDownlink, reason: string): void;
}

/**
 * Downlinks waiting for a device that can only be answered (HTTP: the device's next uplink gets
 * the downlink in its response). Bounded per device and in devices, so a device that never calls
 * again cannot make memory grow.
 */
export class PendingDownlinkQueue implements PendingDownlinks {
  readonly #byDevice = new Map<string, Entry[]>();
  readonly #maxDevices: number;

  constructor(private readonly options: PendingDownlinkOptions) {
    this.#maxDevices = Math.max(1, options.maxDevices ?? 10_000);
  }

  /** Devices with at least one waiting downlink. */
  get devices(): number {
    return this.#byDevice.size;
  }

  add(outbound: OutboundDownlink, expiresAt?: number): void {
    const entries = this.#byDevice.get(outbound.deviceName) ?? [];
    // Re-inserting moves the device to the end of the map's order: the oldest device is first.
    this.#byDevice.delete(outbound.deviceName);
    entries.push({ outbound, expiresAt });
    const perDevice = Math.max(1, this.options.perDevice?.() ?? 10);
    while (entries.length > perDevice) {
      this.options.onDropped(entries.shift()!.outbound, 'replaced by newer downlinks for the device');
    }
    this.#byDevice.set(outbound.deviceName, entries);
    while (this.#byDevice.size > this.#maxDevices) {
      const [device, dropped] = this.#byDevice.entries().next().value!;
      this.#byDevice.delete(device);
      for (const e of dropped) this.options.onDropped(e.outbound, 'too many devices with pending downlinks');
    }
  }

  take(deviceName: string): OutboundDownlink | undefined {
    const entries = this.#byDevice.get(deviceName);
    if (!entries) return undefined;
    const now = this.options.now();
    let found: Entry | undefined;
    while (!found && entries.length > 0) {
      const entry = entries.shift()!;
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.options.onDropped(entry.outbound, 'expired before the device called');
      else found = entry;
    }
    if (entries.length === 0) this.#byDevice.delete(deviceName);
    if (found) this.options.onTaken(found.outbound);
    return found?.outbound;
  }

  /** Drops everything (the integration stops). */
  clear(reason: string): void {
    for (const entries of this.#byDevice.values()) for (const e of entries) this.options.onDropped(e.outbound, reason);
    this.#byDevice.clear();
  }
}
