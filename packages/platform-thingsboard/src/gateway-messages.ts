import type { OutboxRow } from './outbox.js';

/** One PUBLISH to ThingsBoard and the outbox rows it carries. */
export interface GatewayMessage {
  topic: string;
  payload: Buffer;
  seqs: number[];
  devices: string[];
  /** Telemetry data points (for the data-point rate limit). */
  points: number;
}

const TOPIC = { telemetry: 'v1/gateway/telemetry', attributes: 'v1/gateway/attributes', rpc: 'v1/gateway/rpc' } as const;

/**
 * Packs rows into as few gateway messages as fit under `maxBytes`: telemetry of many devices in
 * one `{"A": [...], "B": [...]}`, attributes likewise, each RPC reply on its own. Row order is
 * kept per device (a device's samples are concatenated in sequence order).
 */
export function packMessages(rows: readonly OutboxRow[], maxBytes: number, solo: ReadonlySet<number> = new Set()): GatewayMessage[] {
  const out: GatewayMessage[] = [];
  let tele: Pack | undefined;
  let attrs: Pack | undefined;
  const flush = (pack: Pack | undefined) => {
    if (pack && pack.seqs.length > 0) out.push(pack.finish());
  };
  for (const row of rows) {
    if (row.kind === 'rpc') {
      const reply = JSON.parse(row.body) as { id: number; data: unknown };
      out.push({
        topic: TOPIC.rpc,
        payload: Buffer.from(JSON.stringify({ device: row.device, id: reply.id, data: reply.data })),
        seqs: [row.seq],
        devices: [row.device],
        points: 0,
      });
      continue;
    }
    if (solo.has(row.seq)) {
      // A row of a refused message: alone, so ThingsBoard's answer is about it only.
      const alone = new Pack(row.kind);
      alone.add(row);
      out.push(alone.finish());
      continue;
    }
    const isTele = row.kind === 'telemetry';
    let pack = isTele ? tele : attrs;
    if (pack && !pack.fits(row, maxBytes)) {
      flush(pack);
      pack = undefined;
    }
    pack ??= new Pack(row.kind);
    pack.add(row);
    if (isTele) tele = pack;
    else attrs = pack;
  }
  flush(tele);
  flush(attrs);
  return out;
}

class Pack {
  readonly seqs: number[] = [];
  readonly #parts = new Map<string, string[]>();
  #bytes = 2;
  #points = 0;

  constructor(readonly kind: 'telemetry' | 'attributes') {}

  /** Bytes the row adds: its inside and a comma, plus the device key when new. */
  #cost(row: OutboxRow): number {
    const inner = Buffer.byteLength(row.body) - 1;
    return this.#parts.has(row.device) ? inner : Buffer.byteLength(JSON.stringify(row.device)) + 4 + inner;
  }

  fits(row: OutboxRow, maxBytes: number): boolean {
    return this.#bytes + this.#cost(row) <= maxBytes;
  }

  add(row: OutboxRow): void {
    this.#bytes += this.#cost(row);
    this.seqs.push(row.seq);
    const parts = this.#parts.get(row.device) ?? [];
    // Rows are JSON arrays (telemetry) or objects (attributes): keep their inside, merge in finish.
    parts.push(row.body.slice(1, -1));
    this.#parts.set(row.device, parts);
    this.#points += row.points;
  }

  finish(): GatewayMessage {
    const entries = [...this.#parts].map(([device, parts]) => {
      const inner = parts.filter((p) => p !== '').join(',');
      return `${JSON.stringify(device)}:${this.kind === 'telemetry' ? `[${inner}]` : `{${inner}}`}`;
    });
    return { topic: TOPIC[this.kind], payload: Buffer.from(`{${entries.join(',')}}`), seqs: this.seqs, devices: [...this.#parts.keys()], points: this.#points };
  }
}
