// Pre-booted Python guests of one worker thread, and the memory snapshot they are restored from.
// Booting is asynchronous (host-driven timers), so it runs on the thread's event loop between jobs.
import { existsSync, readFileSync } from "node:fs";
import { PythonGuest } from "./python-guest.ts";

export class WarmPythonGuests {
  readonly #ready: PythonGuest[] = [];
  readonly #target: number;
  readonly memoryMb: number;
  readonly #snapshotFile: string | undefined;
  #snapshot: Promise<Uint8Array> | null = null;
  #filling = false;
  #closed = false;

  constructor(target: number, memoryMb: number, snapshotFile?: string) {
    this.#target = target;
    this.memoryMb = memoryMb;
    this.#snapshotFile = snapshotFile;
  }

  /** The snapshot: read from the on-disk cache when present, else taken once in this thread (~2 s). */
  snapshot(): Promise<Uint8Array> {
    this.#snapshot ??= (async () => {
      if (this.#snapshotFile && existsSync(this.#snapshotFile)) return new Uint8Array(readFileSync(this.#snapshotFile));
      return PythonGuest.makeSnapshot();
    })();
    this.#snapshot.catch(() => { this.#snapshot = null; });
    return this.#snapshot;
  }

  /** A ready guest with this memory cap, or a freshly restored one. */
  async take(memoryMb: number): Promise<PythonGuest> {
    const guest = memoryMb === this.memoryMb ? this.#ready.pop() : undefined;
    this.refill();
    return guest ?? PythonGuest.create(memoryMb, await this.snapshot());
  }

  refill(): void {
    if (this.#filling || this.#closed || this.#ready.length >= this.#target) return;
    this.#filling = true;
    void (async () => {
      try {
        while (!this.#closed && this.#ready.length < this.#target) {
          const guest = await PythonGuest.create(this.memoryMb, await this.snapshot());
          if (this.#closed) guest.dispose();
          else this.#ready.push(guest);
        }
      } catch {
        // a failed boot leaves the pool short; jobs then restore their own guest
      } finally {
        this.#filling = false;
      }
    })();
  }

  close(): void {
    this.#closed = true;
    for (const g of this.#ready.splice(0)) g.dispose();
  }
}
