import { PluginError, type PlatformClient, type PlatformReads, type PlatformView } from '@tbi/plugin-api';

/**
 * The platform as one integration may use it: reads, and command subscriptions that end when the
 * integration stops. No `ingest` and no `commandResult`: data goes in through `uplink.submit`,
 * command results come from the host's downlink path.
 */
export class IntegrationPlatformView implements PlatformView {
  readonly #platform: PlatformClient & PlatformReads;
  readonly #unsubscribes = new Set<() => void>();

  constructor(platform: PlatformClient, signal: AbortSignal) {
    this.#platform = platform;
    signal.addEventListener(
      'abort',
      () => {
        for (const unsubscribe of this.#unsubscribes) unsubscribe();
        this.#unsubscribes.clear();
      },
      { once: true },
    );
  }

  async getDevice(name: string) {
    const read = this.#platform.getDevice;
    if (read === undefined) throw unsupported('getDevice');
    const device = await read.call(this.#platform, name);
    if (device === undefined) return undefined;
    // Only the documented fields: the plugin does not get the store's internals.
    return { name: device.name, entityType: device.entityType, type: device.type, integration: device.integration, lastSeen: device.lastSeen };
  }

  async latestTelemetry(name: string, keys?: readonly string[]) {
    const read = this.#platform.latestTelemetry;
    if (read === undefined) throw unsupported('latestTelemetry');
    return read.call(this.#platform, name, keys);
  }

  onCommand(handler: Parameters<PlatformView['onCommand']>[0]): () => void {
    const unsubscribe = this.#platform.onCommand(handler);
    const once = () => {
      if (this.#unsubscribes.delete(once)) unsubscribe();
    };
    this.#unsubscribes.add(once);
    return once;
  }
}

function unsupported(what: string): PluginError {
  return new PluginError('PLATFORM_READ_UNSUPPORTED', `the platform does not offer ${what}()`, { context: { read: what } });
}
