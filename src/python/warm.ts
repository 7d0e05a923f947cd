// Pre-booted Python guests of one worker thread, and the memory snapshot they are restored from.
import { existsSync, readFileSync } from "node:fs";
import { PythonGuest } from "./python-guest.ts";

export class WarmPythonGuests {
  readonly #ready: PythonGuest[] = [];
  readonly #target: number;
  readonly memoryMb: number;
  readonly #snapshotFile: string | undefined;
  #snapshot: Promise<Uint8Array> | null = null;
  #filling = false;

  constructor(target: number, memoryMb: number, snapshotFile?: string, shared?: SharedArrayBuffer) {
    this.#target = target;
    this.memoryMb = memoryMb;
    this.#snapshotFile = snapshotFile;
    if (shared) this.#snapshot = Promise.resolve(new Uint8Array(shared));
  }

  /**
   * The snapshot: the host's shared copy, else the on-disk cache, else taken once in this thread
   * (~2 s). Guests never see these bytes: PythonGuest.create copies them into the isolate.
   */
  snapshot(): Promise<Uint8Array> {
    this.#snapshot ??= (async () => {
      if (this.#snapshotFile && existsSync(this.#snapshotFile)) return new Uint8Array(readFileSync(this.#snapshotFile));
      return PythonGuest.makeSnapshot();
    })();
    this.#snapshot.catch(() => {
      this.#snapshot = null;
    });
    return this.#snapshot;
  }

  /** A ready guest with this memory cap, or a freshly restored one. */
  async take(memoryMb: number): Promise<PythonGuest> {
    const guest = memoryMb === this.memoryMb ? this.#ready.pop() : undefined;
    return guest ?? PythonGuest.create(memoryMb, await this.snapshot(), { waits: false });
  }

  /**
   * Boot up to `max` guests now (all missing ones by default). Called inside a Piscina task — at
   * start-up and after each Python job — because an idle worker's event loop is parked, and a boot
   * needs it (Pyodide's loader runs on host-driven timers).
   */
  async fill(max = Infinity): Promise<void> {
    if (this.#filling) return;
    this.#filling = true;
    try {
      for (let i = 0; i < max && this.#ready.length < this.#target; i++) {
        this.#ready.push(await PythonGuest.create(this.memoryMb, await this.snapshot()));
      }
    } catch {
      // a failed boot leaves the pool short; jobs then restore their own guest
    } finally {
      this.#filling = false;
    }
  }
}
