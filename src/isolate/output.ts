// Runs in: a worker thread of the sandbox host process. Collects a job's stdout/stderr under the
// maxOutputBytes cap (OutputCap, the rule both backends share) and streams complete lines out while
// the job runs (batched per event-loop turn: one message per burst, not per line).
import { OutputCap } from "../output/cap.ts";

export type Fd = 1 | 2;
const FLUSH_EVERY_MS = 5;

export class OutputSink {
  readonly text: Record<Fd, string> = { 1: "", 2: "" };
  readonly #cap: OutputCap;
  #partial: Record<Fd, string> = { 1: "", 2: "" };
  #batch: Record<Fd, string[]> = { 1: [], 2: [] };
  #flushScheduled = false;
  /** -Infinity: a job's first line goes out at once (the first flush has nothing to batch with). */
  #lastFlush = -Infinity;

  readonly #stream: { stdout: boolean; stderr: boolean };
  readonly #post: (fd: Fd, lines: string[]) => void;
  readonly #onExceeded: () => void;

  constructor(
    maxBytes: number,
    stream: { stdout: boolean; stderr: boolean },
    post: (fd: Fd, lines: string[]) => void,
    onExceeded: () => void,
  ) {
    this.#cap = new OutputCap(maxBytes);
    this.#stream = stream;
    this.#post = post;
    this.#onExceeded = onExceeded;
  }

  get exceeded(): boolean {
    return this.#cap.over;
  }

  write(fd: Fd, chunk: string): void {
    if (this.#cap.over) return;
    // Keeps what fits; past the cap, the job is stopped.
    chunk = this.#cap.take(chunk);
    this.text[fd] += chunk;
    if (fd === 1 ? this.#stream.stdout : this.#stream.stderr) this.#splitLines(fd, chunk);
    if (this.#cap.over) {
      this.finish();
      this.#onExceeded();
    }
  }

  /** Flush a trailing partial line and any batched lines now. */
  finish(): void {
    for (const fd of [1, 2] as const) {
      if (this.#partial[fd]) {
        this.#batch[fd].push(this.#partial[fd]);
        this.#partial[fd] = "";
      }
    }
    this.#flush();
  }

  /** Post the complete lines batched so far (before the guest blocks: nothing else would). */
  flush(): void {
    this.#flush();
  }

  #splitLines(fd: Fd, chunk: string): void {
    const parts = (this.#partial[fd] + chunk).split("\n");
    this.#partial[fd] = parts.pop() ?? "";
    if (parts.length === 0) return;
    for (const p of parts) this.#batch[fd].push(p);
    // Guest code runs in synchronous slices on this thread, so a busy guest would starve the
    // setImmediate flush: past a few milliseconds, post right away from inside the write.
    if (performance.now() - this.#lastFlush > FLUSH_EVERY_MS) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    this.#lastFlush = performance.now();
    for (const fd of [1, 2] as const) {
      if (this.#batch[fd].length) {
        const lines = this.#batch[fd];
        this.#batch[fd] = [];
        this.#post(fd, lines);
      }
    }
  }
}
