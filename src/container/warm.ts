// Runs in: the embedding process. Pre-started guests whose runner waits for a job, refilled in the
// background after each take, so an escalated job does not pay the container start. Generic over
// the guest (a RunnerConnection of any runtime). The pool owns the guests it holds until one is
// taken; `close()` removes those it still holds and any still starting.

/** What the pool needs of a guest: whether it can still take a job, and its one disposal path. */
export interface WarmGuest {
  readonly alive: boolean;
  dispose(): Promise<void>;
}

/** After a failed start, wait this long before the next refill (threat: a hot loop against a
 * daemon that is down or an image that is gone). */
const RETRY_MS = 5_000;

export class WarmContainers<G extends WarmGuest> {
  readonly #ready: G[] = [];
  #starting = 0;
  #closed = false;
  #retryAt = 0;
  readonly #size: number;
  readonly #start: () => Promise<G>;
  readonly #pending = new Set<Promise<void>>();

  constructor(size: number, start: () => Promise<G>) {
    this.#size = size;
    this.#start = start;
  }

  /** A ready guest, or undefined when none is (the caller starts one itself). The caller calls
   * `fill()` once its job is done: a refill started next to the job would take CPU from it. */
  take(): G | undefined {
    let guest: G | undefined;
    while ((guest = this.#ready.shift())) {
      if (guest.alive) break;
      void guest.dispose();
    }
    return guest;
  }

  fill(): void {
    if (this.#closed || performance.now() < this.#retryAt) return;
    while (this.#ready.length + this.#starting < this.#size) {
      this.#starting++;
      const p = this.#start()
        .then(
          (g) => {
            if (this.#closed) return g.dispose();
            this.#ready.push(g);
          },
          (e: Error) => {
            if (this.#closed) return; // a start cut short by close(): nothing to report
            this.#retryAt = performance.now() + RETRY_MS;
            console.warn(`isobox: could not pre-start a container: ${e.message}`);
          },
        )
        .finally(() => {
          this.#starting--;
          this.#pending.delete(p);
        });
      this.#pending.add(p);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pending]);
    await Promise.all(this.#ready.splice(0).map((g) => g.dispose()));
  }
}
