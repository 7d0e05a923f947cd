// Runs in: the sandbox host process, the worker thread that runs the guest.
// The isolate layer's one limit enforcer: wall clock (which, unlike isolated-vm's own `timeout`,
// also covers time spent awaiting promises), guest CPU time from `isolate.cpuTime`, and the heap
// sampling behind usage.memoryPeakBytes. Breaking a limit terminates the guest (disposes its isolate).
import type ivm from "isolated-vm";
import type { Limits } from "../contract/limits.ts";
import { cpuTimeout, wallTimeout, type Outcome } from "../contract/outcomes.ts";

export interface Stoppable {
  terminate(outcome: Outcome): void;
}

const CHECK_EVERY_MS = 20;

export class JobLimits {
  #wall: NodeJS.Timeout;
  #tick: NodeJS.Timeout;
  #sampling = false;
  readonly startedAt = performance.now();
  readonly #cpuStart: bigint;
  cpuNs = 0n;
  peakBytes = 0;

  readonly #guest: Stoppable;
  readonly #isolate: ivm.Isolate;
  readonly #limits: Limits;

  constructor(guest: Stoppable, isolate: ivm.Isolate, limits: Limits) {
    this.#guest = guest;
    this.#isolate = isolate;
    this.#limits = limits;
    this.#cpuStart = isolate.cpuTime;
    this.#wall = setTimeout(() => guest.terminate(wallTimeout(limits.timeoutMs)), limits.timeoutMs);
    this.#tick = setInterval(() => this.check(), CHECK_EVERY_MS);
    this.#sampleSync(); // the guest has not started yet: the isolate is idle
  }

  #sampleSync(): void {
    const h = this.#isolate.getHeapStatisticsSync();
    this.peakBytes = Math.max(this.peakBytes, h.used_heap_size + h.externally_allocated_size);
  }

  /** The limit a synchronous slice ran into when isolated-vm's timeout stopped it. */
  exceeded(): Outcome {
    const wallLeft = this.#limits.timeoutMs - (performance.now() - this.startedAt);
    return wallLeft <= 5 ? wallTimeout(this.#limits.timeoutMs) : cpuTimeout(this.#limits.cpuTimeMs);
  }

  /** What is left of the wall-clock and CPU budgets, whichever is smaller (at least 1 ms). */
  remainingMs(): number {
    const wall = this.#limits.timeoutMs - (performance.now() - this.startedAt);
    const cpu = this.#limits.cpuTimeMs - Number(this.#isolate.isDisposed ? 0n : this.#isolate.cpuTime - this.#cpuStart) / 1e6;
    return Math.max(1, Math.ceil(Math.min(wall, cpu)));
  }

  /** Read CPU time (cheap, lock-free) and start a heap sample that never blocks this thread. */
  check(): void {
    if (this.#isolate.isDisposed) return;
    this.cpuNs = this.#isolate.cpuTime - this.#cpuStart;
    if (this.cpuNs >= BigInt(this.#limits.cpuTimeMs) * 1_000_000n) {
      this.#guest.terminate(cpuTimeout(this.#limits.cpuTimeMs));
      return;
    }
    if (this.#sampling) return;
    this.#sampling = true;
    this.#isolate.getHeapStatistics().then(
      (h) => {
        this.#sampling = false;
        this.peakBytes = Math.max(this.peakBytes, h.used_heap_size + h.externally_allocated_size);
      },
      () => {
        this.#sampling = false;
      },
    );
  }

  /**
   * Stop the clocks and take the last samples. `guestIdle` must be true only when no guest code can
   * be running: the synchronous heap read waits for the isolate's lock, so while guest code runs it
   * would block this thread until that code ends (and with it every watchdog here).
   */
  stop(guestIdle = false): void {
    clearTimeout(this.#wall);
    clearInterval(this.#tick);
    if (this.#isolate.isDisposed) return;
    try {
      this.cpuNs = this.#isolate.cpuTime - this.#cpuStart;
      if (guestIdle) this.#sampleSync();
    } catch {
      // disposed concurrently: keep the last samples
    }
  }
}
