import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The last stored offset of each consumed stream queue, in the integration's data directory.
 * AMQP 0-9-1 stream consumers have no server-side offset, so a restarted host resumes from here
 * (the next offset); what it reads twice is skipped by its `sourceId` (`queue@offset`).
 */
export class StreamOffsets {
  readonly #file: string;
  #offsets: Record<string, number>;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(dataDir: string) {
    this.#file = path.join(dataDir, 'rabbitmq-stream-offsets.json');
    try {
      this.#offsets = JSON.parse(readFileSync(this.#file, 'utf8')) as Record<string, number>;
    } catch {
      this.#offsets = {};
    }
  }

  /** Where to start consuming `queue`: after the last stored offset, else `fallback`. */
  startFor(queue: string, fallback: 'first' | 'last' | 'next' | number): 'first' | 'last' | 'next' | number {
    const last = this.#offsets[queue];
    return last === undefined ? fallback : last + 1;
  }

  /** Records that everything of `queue` up to `offset` is stored; written within 200 ms. */
  stored(queue: string, offset: number): void {
    if ((this.#offsets[queue] ?? -1) >= offset) return;
    this.#offsets[queue] = offset;
    this.#dirty = true;
    this.#timer ??= setTimeout(() => this.flush(), 200);
  }

  /** Writes now (atomically: a crash leaves the old or the new file, never half of one). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#dirty) return;
    this.#dirty = false;
    mkdirSync(path.dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.#offsets));
    renameSync(tmp, this.#file);
  }
}
