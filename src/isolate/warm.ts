// Pre-warmed JavaScript guests of one worker thread: isolates with context and prelude ready, each
// handed to exactly one job. Refilled in the background, one at a time, off the job's path.
import { JsGuest } from "./js-guest.ts";

export class WarmJsGuests {
  readonly #ready: JsGuest[] = [];
  #filling = false;

  readonly #target: number;
  readonly memoryMb: number;

  constructor(target: number, memoryMb: number) {
    this.#target = target;
    this.memoryMb = memoryMb;
  }

  get size(): number {
    return this.#ready.length;
  }

  #busy = false;

  /**
   * A ready guest for a job with this memory cap, or undefined (the caller makes a cold one).
   * Refilling pauses until `jobDone()`: creation is synchronous and would stall the running job.
   */
  take(memoryMb: number): JsGuest | undefined {
    this.#busy = true;
    return memoryMb === this.memoryMb ? this.#ready.pop() : undefined;
  }

  /** Called by the task that took a guest, at its end: make up to `max` guests now, synchronously. */
  jobDone(max: number): void {
    this.#busy = false;
    try {
      for (let i = 0; i < max && this.#ready.length < this.#target; i++) this.#ready.push(JsGuest.create(this.memoryMb));
    } catch {
      // isolate creation failed (host memory pressure): jobs fall back to cold guests
    }
  }

  /** Background fill at start-up, one guest per event-loop turn, paused while a job runs. */
  refill(): void {
    if (this.#filling || this.#busy || this.#ready.length >= this.#target) return;
    this.#filling = true;
    setImmediate(() => this.#fill());
  }

  /** One guest per event-loop turn, so a job arriving meanwhile waits for at most one creation. */
  #fill(): void {
    try {
      if (this.#busy || this.#ready.length >= this.#target) {
        this.#filling = false;
        return;
      }
      this.#ready.push(JsGuest.create(this.memoryMb));
      setImmediate(() => this.#fill());
    } catch {
      // isolate creation failed (host memory pressure): jobs fall back to cold guests
      this.#filling = false;
    }
  }

  /** Wait until the pool is full (used at start-up so the first job is warm). */
  async filled(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    this.refill();
    while (this.#ready.length < this.#target && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  }
}
