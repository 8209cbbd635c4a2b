import type { ConverterLog, Metadata } from '@tbi/plugin-api';
import type { PayloadView } from './payload-view.js';

/** What an integration records: nothing, every message, or only the ones that failed. */
export type DebugMode = 'off' | 'all' | 'failures';

export const DEBUG_MODES: readonly DebugMode[] = ['off', 'all', 'failures'];

/** One debug event, like a ThingsBoard integration's "Events → Debug" row. */
export interface DebugEvent {
  /** Increases per integration; `Last-Event-ID` of the live stream. */
  id: number;
  /** Epoch ms. */
  time: number;
  integration: string;
  type: 'uplink' | 'downlink';
  /** Uplink: `stored`, `dead-lettered`, `failed`. Downlink: `sent`, `queued`, `failed`. */
  status: string;
  in: {
    /** Uplink payload. */
    payload?: PayloadView;
    /** Uplink: the metadata the converter saw. Downlink: the command's metadata. */
    metadata: Metadata;
    /** Downlink: the platform message and its type. */
    msg?: unknown;
    msgType?: string;
    deviceName?: string;
  };
  /** What the converter returned (uplink: its raw output; downlink: the encoded message). */
  out?: unknown;
  error?: { kind?: string; message: string; path?: string };
  /** Lines the converter printed with `console.*`. */
  logs: ConverterLog[];
  /** Milliseconds: conversion of the batch, storing it, sending a downlink. */
  timings: { convertMs?: number; storeMs?: number; sendMs?: number; batchSize?: number };
}

export type DebugEventInput = Omit<DebugEvent, 'id' | 'integration'>;

type Listener = (event: DebugEvent) => void;

/**
 * A bounded ring of an integration's recent debug events, with live listeners. Old events fall
 * out as new ones come, so memory stays fixed however busy the integration is.
 */
export class DebugRing {
  #mode: DebugMode;
  #size: number;
  #events: DebugEvent[] = [];
  #next = 1;
  #listeners = new Set<{ onEvent: Listener; onClose: () => void }>();
  #revertTimer: NodeJS.Timeout | undefined;
  #modeUntil: number | undefined;

  constructor(
    readonly integration: string,
    options: { mode?: DebugMode; size?: number } = {},
  ) {
    this.#mode = options.mode ?? 'failures';
    this.#size = Math.max(1, Math.floor(options.size ?? 200));
  }

  get mode(): DebugMode {
    return this.#mode;
  }

  get size(): number {
    return this.#size;
  }

  /** When a temporary `all` mode falls back to `failures` (epoch ms), if it does. */
  get modeUntil(): number | undefined {
    return this.#modeUntil;
  }

  /** True when an event with this outcome would be kept: check before building one. */
  wants(failed: boolean): boolean {
    return this.#mode === 'all' || (this.#mode === 'failures' && failed);
  }

  /**
   * Switches the mode at run time. With `durationMs`, `all` falls back to `failures` after that
   * long, as ThingsBoard does after 15 minutes, so a forgotten debug switch costs nothing.
   */
  setMode(mode: DebugMode, options: { size?: number; durationMs?: number; now?: number } = {}): void {
    clearTimeout(this.#revertTimer);
    this.#revertTimer = undefined;
    this.#modeUntil = undefined;
    this.#mode = mode;
    if (options.size !== undefined) {
      this.#size = Math.max(1, Math.floor(options.size));
      if (this.#events.length > this.#size) this.#events.splice(0, this.#events.length - this.#size);
    }
    if (mode === 'all' && options.durationMs !== undefined && options.durationMs > 0) {
      this.#modeUntil = (options.now ?? Date.now()) + options.durationMs;
      this.#revertTimer = setTimeout(() => this.setMode('failures'), options.durationMs);
      this.#revertTimer.unref();
    }
  }

  record(input: DebugEventInput): DebugEvent {
    const event: DebugEvent = { id: this.#next++, integration: this.integration, ...input };
    this.#events.push(event);
    if (this.#events.length > this.#size) this.#events.shift();
    for (const listener of this.#listeners) listener.onEvent(event);
    return event;
  }

  /** Newest first. `afterId` keeps only newer events (for a client that reconnects). */
  list(options: { limit?: number; type?: DebugEvent['type']; afterId?: number } = {}): DebugEvent[] {
    const out: DebugEvent[] = [];
    const limit = options.limit ?? this.#size;
    for (let i = this.#events.length - 1; i >= 0 && out.length < limit; i--) {
      const event = this.#events[i]!;
      if (options.afterId !== undefined && event.id <= options.afterId) break;
      if (options.type === undefined || event.type === options.type) out.push(event);
    }
    return out;
  }

  clear(): void {
    this.#events = [];
  }

  /** Calls `onEvent` for every new event until the returned function is called or the ring closes. */
  subscribe(onEvent: Listener, onClose: () => void = () => {}): () => void {
    const entry = { onEvent, onClose };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** The integration is gone: ends live streams. */
  close(): void {
    clearTimeout(this.#revertTimer);
    for (const listener of this.#listeners) listener.onClose();
    this.#listeners.clear();
  }
}
