// Pre-warmed JavaScript guests of one worker thread: isolates with context and prelude ready, each
// handed to exactly one job. Refilled in the background, one at a time, off the job's path.
import { JsGuest } from "./js-guest.ts";

export class WarmJsGuests {
  readonly #ready: JsGuest[] = [];
  #filling = false;
  #closed = false;

  readonly #target: number;
  readonly memoryMb: number;

  constructor(target: number, memoryMb: number) {
    this.#target = target;
    this.memoryMb = memoryMb;
  }

  get size(): number {
    return this.#ready.length;
  }

  /** A ready guest for a job with this memory cap, or undefined (the caller makes a cold one). */
  take(memoryMb: number): JsGuest | undefined {
    const guest = memoryMb === this.memoryMb ? this.#ready.pop() : undefined;
    this.refill();
    return guest;
  }

  refill(): void {
    if (this.#filling || this.#closed || this.#ready.length >= this.#target) return;
    this.#filling = true;
    setImmediate(() => void this.#fill());
  }

  async #fill(): Promise<void> {
    try {
      while (!this.#closed && this.#ready.length < this.#target) {
        const guest = await JsGuest.create(this.memoryMb);
        if (this.#closed) guest.dispose();
        else this.#ready.push(guest);
      }
    } catch {
      // isolate creation failed (host memory pressure): jobs fall back to cold guests
    } finally {
      this.#filling = false;
    }
  }

  /** Wait until the pool is full (used at start-up so the first job is warm). */
  async filled(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    this.refill();
    while (this.#ready.length < this.#target && Date.now() < until && !this.#closed) await new Promise((r) => setTimeout(r, 5));
  }

  close(): void {
    this.#closed = true;
    for (const g of this.#ready.splice(0)) g.dispose();
  }
}
