// Runs in: the embedding process. The host's end of the runner's channel (the far end is
// runtimes/container/channel.py), shared by every runtime: a runtime pushes the runner's stdout
// bytes in, and the frames go to the one job listening, or to the start-up wait for `ready`.
// A frame that arrives while no job listens is dropped (threat: a session guest's background
// thread writing frames between runs, to be read as the next run's output or result).
import type { Frame } from "./frames.ts";
import { FrameReader } from "./frames.ts";
import { describeExit, type ExitInfo, type FrameListener } from "./runtime.ts";

/** Slack on top of the largest value a frame may carry (file chunks are ≤ 1 MiB before base64). */
const FRAME_SLACK = 4 << 20;
/** A runner that is not ready by then is taken for broken (threat: a start that hangs forever). */
const READY_TIMEOUT_MS = 30_000;

export class RunnerChannel {
  readonly #reader: FrameReader;
  #listener: FrameListener | undefined;
  #onViolation: ((why: string) => void) | undefined;
  #violation: string | undefined;

  constructor() {
    this.#reader = new FrameReader(
      FRAME_SLACK,
      (f, bytes) => this.#listener?.(f, bytes),
      (why) => {
        this.#violation = why;
        this.#onViolation?.(why);
      },
    );
  }

  /** The runner's stdout bytes, in chunks of any size (a runtime's transport framing already removed). */
  push(bytes: Buffer): void {
    this.#reader.push(bytes);
  }

  /** Why the stream broke, once it did (a guest whose stream broke is never reused). */
  get violation(): string | undefined {
    return this.#violation;
  }

  listen(onFrame: FrameListener, onViolation: (why: string) => void, maxValueBytes: number): () => void {
    this.#reader.maxLine = maxValueBytes + FRAME_SLACK;
    this.#listener = onFrame;
    this.#onViolation = onViolation;
    if (this.#violation !== undefined) queueMicrotask(() => onViolation(this.#violation!));
    return () => {
      if (this.#listener !== onFrame) return;
      this.#listener = undefined;
      this.#onViolation = undefined;
    };
  }

  /** Resolves on the runner's `ready`; rejects on any other first frame, its exit, or the time limit. */
  async ready(exited: Promise<ExitInfo>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let detach = () => {};
    try {
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          const first = (f: Frame) => (f.t === "ready" ? resolve() : reject(new Error(`container runner sent ${f.t} before ready`)));
          detach = this.listen(first, (why) => reject(new Error(`container runner wrote ${why} before ready`)), 0);
        }),
        exited.then((e) => {
          throw new Error(`container exited before its runner was ready (${describeExit(e)})`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("container runner not ready in time")), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      detach();
    }
  }

  /** Nothing more reaches anyone (the guest is being disposed). */
  close(): void {
    this.#listener = undefined;
    this.#onViolation = undefined;
  }
}
