/** A value a converter may put into attributes or telemetry. */
export type Scalar = string | number | boolean | null;

/** A flat map of keys to scalar values. */
export type KeyValues = Record<string, Scalar>;

/** Telemetry values that share one timestamp (epoch milliseconds). */
export interface TelemetrySample {
  ts: number;
  values: KeyValues;
}

/** Answer of a device to a two-way RPC, reported by an uplink converter as `rpcReply`. */
export interface RpcReply {
  /** The `requestId` the downlink carried in its metadata. */
  requestId: string;
  /** Whatever the device answered. */
  response: unknown;
}

/**
 * The normalised result of an uplink converter: one device (or asset) with the data of one
 * message. Every telemetry shape a ThingsBoard converter may return (a flat map, `{ts, values}`,
 * an array of those) is normalised into `telemetry` samples.
 */
export interface DeviceRecord {
  /** `DEVICE` unless the converter returned `assetName`/`assetType`. */
  entityType: 'DEVICE' | 'ASSET';
  deviceName: string;
  /** Device profile (or asset profile) name. */
  deviceType: string;
  /** Applied only when the entity is first created, as in ThingsBoard. */
  customerName?: string;
  /** Applied only when the entity is first created, as in ThingsBoard. */
  groupName?: string;
  /** Client-scope attributes. */
  attributes: KeyValues;
  telemetry: TelemetrySample[];
  /** Replies to two-way RPCs carried by this message. */
  rpcReplies?: RpcReply[];
}
