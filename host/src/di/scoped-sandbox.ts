import type { Converter, ConverterLimits, ConverterSandbox, DownlinkConverter, Logger, UplinkConverter } from '@tbi/plugin-api';

/**
 * The shared converter sandbox as one integration sees it: the converters it compiles carry the
 * integration's name and are disposed when it stops, so a plugin cannot leak isolates.
 */
export class ScopedSandbox implements ConverterSandbox {
  readonly #sandbox: ConverterSandbox;
  readonly #prefix: string;
  readonly #owned = new Set<UplinkConverter | DownlinkConverter>();

  constructor(sandbox: ConverterSandbox, integration: string, signal: AbortSignal, logger: Logger) {
    this.#sandbox = sandbox;
    this.#prefix = `${integration}/plugin/`;
    signal.addEventListener(
      'abort',
      () => {
        for (const converter of this.#owned) {
          converter.dispose().catch((err: unknown) => logger.warn({ err, converter: converter.name }, 'disposing a plugin converter failed'));
        }
        this.#owned.clear();
      },
      { once: true },
    );
  }

  async uplink(name: string, source: string, limits?: Partial<ConverterLimits>): Promise<UplinkConverter> {
    return this.#own(await this.#sandbox.uplink(this.#prefix + name, source, limits));
  }

  async downlink(name: string, source: string, limits?: Partial<ConverterLimits>): Promise<DownlinkConverter> {
    return this.#own(await this.#sandbox.downlink(this.#prefix + name, source, limits));
  }

  #own<I, R>(converter: Converter<I, R>): Converter<I, R> {
    this.#owned.add(converter as UplinkConverter | DownlinkConverter);
    const owned = this.#owned;
    // A plugin that disposes its converter itself is fine too: it is then no longer ours.
    return {
      get name() {
        return converter.name;
      },
      get version() {
        return converter.version;
      },
      run: (batch) => converter.run(batch),
      replace: (source) => converter.replace(source),
      dispose: () => {
        owned.delete(converter as UplinkConverter | DownlinkConverter);
        return converter.dispose();
      },
    };
  }
}
