/**
 * Counts the messages one integration has in flight (submitted, not yet resolved) and switches
 * between "paused" and "flowing" with hysteresis: pause at `high`, resume at `low`, so a source
 * that hovers around the limit does not flap between the two.
 */
export class BackPressure {
  #count = 0;
  #paused = false;

  constructor(
    readonly high: number,
    readonly low: number,
    private readonly onChange: (paused: boolean, inFlight: number) => void,
  ) {
    if (!(high >= 1) || !(low >= 0) || low >= high) {
      throw new RangeError(`back-pressure needs 0 <= low < high, got low ${low}, high ${high}`);
    }
  }

  get inFlight(): number {
    return this.#count;
  }

  get paused(): boolean {
    return this.#paused;
  }

  add(n: number): void {
    this.#count += n;
    if (!this.#paused && this.#count >= this.high) {
      this.#paused = true;
      this.onChange(true, this.#count);
    }
  }

  remove(n: number): void {
    this.#count = Math.max(0, this.#count - n);
    if (this.#paused && this.#count <= this.low) {
      this.#paused = false;
      this.onChange(false, this.#count);
    }
  }
}
