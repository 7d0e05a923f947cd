// Runs in: the sandbox host process: the Python guest's worker thread and the host thread that stops
// it. A Python guest's interrupt buffer, shared by the two threads and with the guest's isolate
// (Pyodide's interrupt buffer): two Int32 slots, and this class is the only code that touches them
// on the host side (runtimes/isolate/python.js hands slot SIGNAL to Pyodide).
/** Pyodide's slot: 2 (SIGINT) makes Python raise KeyboardInterrupt at its next check. */
const SIGNAL = 0;
/** Ours: 1 once the host sent the soft stop, so the guest's worker can tell it from Python's own. */
const SENT = 1;
const SIGINT = 2;

export class InterruptBuffer {
  /** The shared bytes: what crosses to the other thread (each side wraps them in its own view). */
  readonly buffer: SharedArrayBuffer;
  readonly #slots: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer;
    this.#slots = new Int32Array(buffer);
  }

  /** The soft stop at the deadline. SENT first: whoever sees the signal also sees that the host sent it. */
  set(): void {
    Atomics.store(this.#slots, SENT, 1);
    Atomics.store(this.#slots, SIGNAL, SIGINT);
  }

  /** Before a run: no soft stop of an earlier run (a session's interpreter runs again) may linger. */
  clear(): void {
    Atomics.store(this.#slots, SENT, 0);
    Atomics.store(this.#slots, SIGNAL, 0);
  }

  /** True once the host sent the soft stop during this run. */
  get sent(): boolean {
    return Atomics.load(this.#slots, SENT) === 1;
  }
}
