// Runs in: the sandbox host process: the Python guest's worker thread and the host thread that stops
// it. A Python guest's interrupt buffers, shared by the two threads: the signal slot (also the guest
// isolate's: Pyodide's interrupt buffer, runtimes/isolate/python.js) and the host's own "sent" flag;
// this class is the only code that touches them on the host side.
/** Pyodide's slot: 2 (SIGINT) makes Python raise KeyboardInterrupt at its next check. */
const SIGINT = 2;

/** The buffers as they cross to the host thread: `signal` is also the isolate's, `sent` never is. */
export interface InterruptShared {
  signal: SharedArrayBuffer;
  sent: SharedArrayBuffer;
}

export class InterruptBuffer {
  /** Pyodide's interrupt buffer (one Int32), handed into the guest's isolate. */
  readonly signal: SharedArrayBuffer;
  /**
   * Ours, in a buffer of its own: 1 once the host sent the soft stop. Never given to the isolate
   * (threat: a guest that catches KeyboardInterrupt clearing the flag in the buffer it can reach,
   * so that a job stopped at its deadline is reported `ok`).
   */
  readonly sentFlag: SharedArrayBuffer;
  readonly #signal: Int32Array;
  readonly #sent: Int32Array;

  constructor(shared?: InterruptShared) {
    this.signal = shared?.signal ?? new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    this.sentFlag = shared?.sent ?? new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    this.#signal = new Int32Array(this.signal);
    this.#sent = new Int32Array(this.sentFlag);
  }

  /** What the host thread needs to stop this guest. */
  get shared(): InterruptShared {
    return { signal: this.signal, sent: this.sentFlag };
  }

  /** The soft stop at the deadline. SENT first: whoever sees the signal also sees that the host sent it. */
  set(): void {
    Atomics.store(this.#sent, 0, 1);
    Atomics.store(this.#signal, 0, SIGINT);
  }

  /** Before a run: no soft stop of an earlier run (a session's interpreter runs again) may linger. */
  clear(): void {
    Atomics.store(this.#sent, 0, 0);
    Atomics.store(this.#signal, 0, 0);
  }

  /** True once the host sent the soft stop during this run. */
  get sent(): boolean {
    return Atomics.load(this.#sent, 0) === 1;
  }
}
