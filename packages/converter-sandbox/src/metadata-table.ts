/**
 * Metadata of an uplink batch as it crosses into the isolate. Parsing one JSON object per
 * message cost the isolate about a third of a microsecond per message, more than running the
 * converter itself; but the metadata of a batch nearly always has the same keys (integration
 * metadata, `topic`, headers of one client) and many of its values repeat. So a batch carries:
 *
 * - `shapes`: each distinct list of keys once;
 * - `values`: each distinct string value once (other values, which are not deduplicated, only
 *   appear in metadata that takes the slow path below);
 * - per message, in the batch header: the shape's index, then one value index per key; or `-1`
 *   and the index of a value that is the whole metadata (a metadata with a value that is not a
 *   string, or an object that is not plain, keeps exactly what JSON made of it before).
 *
 * The isolate builds a new object per message from its shape (see runtime-source), so a
 * converter that changes its metadata changes nothing for the next message.
 */
export class MetadataTable {
  readonly shapes: string[][] = [];
  readonly values: unknown[] = [];
  private readonly shapeIds = new Map<string, number>();
  private readonly valueIds = new Map<string, number>();
  private lastKeys: string[] | undefined;
  private lastShape = -1;

  /** Appends the metadata's entry (shape or -1, then value indices) to `header`. */
  add(metadata: unknown, header: number[]): void {
    const keys = plainStringKeys(metadata);
    if (keys === undefined) {
      header.push(-1, this.values.length);
      this.values.push(metadata);
      return;
    }
    header.push(this.shapeOf(keys));
    const record = metadata as Record<string, string>;
    for (const key of keys) header.push(this.valueId(record[key] as string));
  }

  private shapeOf(keys: string[]): number {
    const last = this.lastKeys;
    if (last !== undefined && last.length === keys.length) {
      let same = true;
      for (let k = 0; k < keys.length; k++) {
        if (keys[k] !== last[k]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastShape;
    }
    // Any string can be a key, so no separator is safe: the id is the keys' JSON.
    const id = JSON.stringify(keys);
    let shape = this.shapeIds.get(id);
    if (shape === undefined) {
      shape = this.shapes.length;
      this.shapes.push(keys);
      this.shapeIds.set(id, shape);
    }
    this.lastKeys = keys;
    this.lastShape = shape;
    return shape;
  }

  private valueId(value: string): number {
    let id = this.valueIds.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.valueIds.set(value, id);
    }
    return id;
  }
}

/** The keys of a plain object whose values are all strings; undefined for anything else. */
function plainStringKeys(metadata: unknown): string[] | undefined {
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const proto = Object.getPrototypeOf(metadata) as unknown;
  if (proto !== Object.prototype && proto !== null) return undefined;
  const keys = Object.keys(metadata);
  const record = metadata as Record<string, unknown>;
  for (const key of keys) if (typeof record[key] !== 'string') return undefined;
  return keys;
}
