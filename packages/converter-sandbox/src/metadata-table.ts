/**
 * Metadata of an uplink batch as it crosses into the isolate. Parsing one JSON object per
 * message cost the isolate about a third of a microsecond per message, more than running the
 * converter itself; but the metadata of a batch nearly always has the same keys (integration
 * metadata, `topic`, headers of one client) and many of its values repeat. So a batch carries:
 *
 * - `shapes`: each distinct list of keys once, and `uses`: how many messages use each;
 * - `values`: the string values, a value equal to the one the same key had in the message
 *   before only once (integration metadata, a topic shared by many messages);
 * - per message, in the batch header: the shape's index, then one value index per key; or `-1`
 *   and the index of a value that is the whole metadata (a metadata with a value that is not a
 *   string, or an object that is not plain, keeps exactly what JSON made of it before).
 *
 * The isolate builds a new object per message from its shape (see runtime-source), so a
 * converter that changes its metadata changes nothing for the next message.
 */
export class MetadataTable {
  readonly shapes: string[][] = [];
  /** Per shape, how many messages use it (the isolate compiles a literal for common shapes). */
  readonly uses: number[] = [];
  readonly values: unknown[] = [];
  /** Made when a second list of keys shows up (most batches have one). */
  private shapeIds: Map<string, number> | undefined;
  private lastKeys: string[] | undefined;
  private lastShape = -1;
  /** Per key of the last shape, the index of the value it had last: a repeat costs no new entry. */
  private lastValues: number[] = [];

  /** Appends the metadata's entry (shape or -1, then value indices) to `header`. */
  add(metadata: unknown, header: number[]): void {
    if (!isPlainObject(metadata)) {
      this.addWhole(metadata, header);
      return;
    }
    const keys = Object.keys(metadata);
    const mark = header.length;
    const shape = this.shapeOf(keys);
    header.push(shape);
    const last = this.lastValues;
    for (let k = 0; k < keys.length; k++) {
      const value = metadata[keys[k] as string];
      if (typeof value !== 'string') {
        header.length = mark;
        this.addWhole(metadata, header);
        return;
      }
      const previous = last[k];
      if (previous !== undefined && this.values[previous] === value) header.push(previous);
      else {
        last[k] = this.values.length;
        header.push(this.values.length);
        this.values.push(value);
      }
    }
    this.uses[shape] = (this.uses[shape] ?? 0) + 1;
  }

  /** Anything but a plain map of strings travels whole, as JSON makes it. */
  private addWhole(metadata: unknown, header: number[]): void {
    header.push(-1, this.values.length);
    this.values.push(metadata);
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
    let shape: number | undefined;
    if (last === undefined) {
      shape = this.addShape(keys);
    } else {
      // Any string can be a key, so no separator is safe: the id is the keys' JSON.
      if (this.shapeIds === undefined) this.shapeIds = new Map([[JSON.stringify(last), this.lastShape]]);
      const id = JSON.stringify(keys);
      shape = this.shapeIds.get(id);
      if (shape === undefined) {
        shape = this.addShape(keys);
        this.shapeIds.set(id, shape);
      }
    }
    this.lastKeys = keys;
    this.lastShape = shape;
    this.lastValues = [];
    return shape;
  }

  private addShape(keys: string[]): number {
    this.shapes.push(keys);
    this.uses.push(0);
    return this.shapes.length - 1;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
