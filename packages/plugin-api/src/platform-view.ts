import type { PlatformCommand } from './services.js';

/** A device (or asset) as the platform knows it. */
export interface PlatformDevice {
  name: string;
  entityType: 'DEVICE' | 'ASSET';
  /** Device (or asset) profile name. */
  type: string;
  /** The integration that last carried its data (its downlinks go there), if known. */
  integration: string | null;
  /** When the platform last stored data for it (epoch ms). */
  lastSeen: number;
}

/** The newest value of a telemetry key. */
export interface LatestValue {
  ts: number;
  value: unknown;
}

/**
 * What a plugin may do with the platform (`ctx.platform`, since 1.2): read devices and their
 * latest telemetry, and subscribe to commands. It cannot write: data reaches the platform only
 * through `ctx.uplink.submit`, so acknowledging after commit, dead letters and back-pressure
 * cannot be bypassed. Command subscriptions end by themselves when the integration stops.
 */
export interface PlatformView {
  /** The device, or `undefined` when the platform has none of that name. */
  getDevice(name: string): Promise<PlatformDevice | undefined>;
  /** The newest value of each telemetry key of the device (or of `keys` only). */
  latestTelemetry(name: string, keys?: readonly string[]): Promise<Record<string, LatestValue>>;
  /**
   * Subscribes to every platform command (the host itself routes each to its integration's
   * downlink path; a plugin listens only to observe). Returns the unsubscribe function.
   */
  onCommand(handler: (command: PlatformCommand) => void): () => void;
}

/**
 * Reads a platform may offer besides `PlatformClient`; the host's `PlatformView` uses them when
 * present (the embedded platform has both).
 */
export interface PlatformReads {
  getDevice?(name: string): PlatformDevice | undefined | Promise<PlatformDevice | undefined>;
  latestTelemetry?(name: string, keys?: readonly string[]): Record<string, LatestValue> | Promise<Record<string, LatestValue>>;
}
