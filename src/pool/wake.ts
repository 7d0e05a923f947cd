// Runs in: the sandbox host process: the host thread bumps it, the job's worker thread sleeps on it.
// A job's wake buffer: one Int32 sequence number the host thread bumps after every message it posts
// to the job's worker, so a guest blocked in a synchronous call (Python), whose thread cannot run
// its event loop, wakes to read its port. This class is the only code that touches the slot.
const SEQ = 0;

export class WakeBuffer {
  /** The shared bytes: what crosses to the other thread (each side wraps them in its own view). */
  readonly buffer: SharedArrayBuffer;
  readonly #slots: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer;
    this.#slots = new Int32Array(buffer);
  }

  /** Host thread: a message was just posted to the worker. */
  bump(): void {
    Atomics.add(this.#slots, SEQ, 1);
    Atomics.notify(this.#slots, SEQ);
  }

  /** Worker: the sequence number to sleep on, read before reading the port (so no bump is missed). */
  get seq(): number {
    return Atomics.load(this.#slots, SEQ);
  }

  /** Worker: sleeps until a bump past `seq`, or `ms`. */
  sleep(seq: number, ms: number): void {
    Atomics.wait(this.#slots, SEQ, seq, ms);
  }
}
