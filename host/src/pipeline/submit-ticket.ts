import type { UplinkOutcome } from '@tbi/plugin-api';

/**
 * The promise of one `submit` call: it resolves when every one of its messages has an outcome
 * (messages of one submit may travel in different converter batches), or rejects once.
 */
export class SubmitTicket {
  readonly promise: Promise<UplinkOutcome[]>;
  readonly #outcomes: UplinkOutcome[];
  #remaining: number;
  #settled = false;
  #resolve!: (outcomes: UplinkOutcome[]) => void;
  #reject!: (error: unknown) => void;

  constructor(size: number) {
    this.#outcomes = new Array<UplinkOutcome>(size);
    this.#remaining = size;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Sets the outcome of message `index`; resolves the promise with the last one. */
  settle(index: number, outcome: UplinkOutcome): void {
    if (this.#settled) return;
    this.#outcomes[index] = outcome;
    if (--this.#remaining === 0) {
      this.#settled = true;
      this.#resolve(this.#outcomes);
    }
  }

  fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }
}
