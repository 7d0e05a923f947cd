// ContainerGuest: one container, from create to remove. It owns the container and its attach
// stream; `dispose()` is its single disposal path (force remove, which also kills). A guest serves
// one job, or the jobs of one session in turn, and is never handed to anything else.
import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import { FrameReader, type Frame } from "./frames.ts";
import { containerSpec, type SpecOptions } from "./hardening.ts";

const READY_TIMEOUT_MS = 30_000;
const STREAM_DRAIN_MS = 500;
/** Slack on top of the largest value a frame may carry (file chunks are ≤ 1 MiB before base64). */
const FRAME_SLACK = 4 << 20;

export type ExitInfo = { code: number; oomKilled: boolean } | { lost: string };

export class ContainerGuest {
  readonly id: string;
  readonly #container: Docker.Container;
  readonly #stream: Duplex;
  readonly #reader: FrameReader;
  #listener: ((f: Frame) => void) | undefined;
  #onViolation: ((why: string) => void) | undefined;
  #violation: string | undefined;
  readonly exited: Promise<ExitInfo>;
  #disposed: Promise<void> | undefined;
  #dead = false;

  private constructor(container: Docker.Container, stream: Duplex, exited: Promise<ExitInfo>) {
    this.id = container.id;
    this.#container = container;
    this.#stream = stream;
    // The exit status can arrive before the last frames on the attach stream: report the exit only
    // once the stream ended (bounded wait), so a final result frame is never lost to that race.
    const drained = new Promise<void>((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
    });
    this.exited = exited.then(async (e) => {
      this.#dead = true;
      await Promise.race([drained, new Promise((r) => setTimeout(r, STREAM_DRAIN_MS))]);
      return e;
    });
    const reader = new FrameReader(FRAME_SLACK, (f) => this.#listener?.(f), (why) => {
      this.#violation = why;
      this.#onViolation?.(why);
    });
    this.#reader = reader;
    stream.on("data", (chunk: Buffer) => reader.push(chunk));
    stream.on("error", () => { /* the exit status (or its loss) reports what happened */ });
  }

  /** Create, attach and start a container, and wait for its runner's `ready` frame. */
  static async start(docker: Docker, spec: SpecOptions): Promise<ContainerGuest> {
    const container = await docker.createContainer(containerSpec(spec));
    let guest: ContainerGuest | undefined;
    try {
      const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
      const exited = container.wait({ condition: "next-exit" }).then(
        async (w: { StatusCode: number }) => ({ code: w.StatusCode, oomKilled: await oomKilled(container) }),
        (e: Error) => ({ lost: e.message }),
      );
      guest = new ContainerGuest(container, stream, exited);
      const ready = guest.#waitReady();
      await container.start();
      await ready;
      return guest;
    } catch (e) {
      await (guest ? guest.dispose() : container.remove({ force: true }).catch(() => {}));
      throw e;
    }
  }

  async #waitReady(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          this.#listener = (f) => (f.t === "ready" ? resolve() : reject(new Error(`container runner sent ${f.t} before ready`)));
        }),
        this.exited.then((e) => { throw new Error(`container exited before its runner was ready (${describeExit(e)})`); }),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error("container runner not ready in time")), READY_TIMEOUT_MS); }),
      ]);
    } finally {
      clearTimeout(timer);
      this.#listener = undefined;
    }
  }

  get alive(): boolean {
    return !this.#dead && !this.#disposed && this.#violation === undefined;
  }

  /** Route frames to one job, whose value may be up to maxValueBytes; returns a detach function. */
  listen(onFrame: (f: Frame) => void, onViolation: (why: string) => void, maxValueBytes: number): () => void {
    this.#reader.maxLine = maxValueBytes + FRAME_SLACK;
    this.#listener = onFrame;
    this.#onViolation = onViolation;
    if (this.#violation !== undefined) queueMicrotask(() => onViolation(this.#violation!));
    return () => {
      this.#listener = undefined;
      this.#onViolation = undefined;
    };
  }

  send(line: string): void {
    this.#stream.write(line + "\n");
  }

  /** Kill (SIGKILL) without removing yet: the exit status is still read for the result. */
  async kill(): Promise<void> {
    await this.#container.kill({ signal: "SIGKILL" }).catch(() => { /* already stopped or gone */ });
  }

  /** Remove the container (killing it if it runs); idempotent, never throws. */
  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      this.#listener = undefined;
      this.#stream.destroy();
      await this.#container.remove({ force: true }).catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 404 && e.statusCode !== 409) throw e;
      }).catch(() => { /* daemon gone: nothing left to remove through it */ });
    })();
    return this.#disposed;
  }
}

async function oomKilled(container: Docker.Container): Promise<boolean> {
  try {
    return (await container.inspect()).State.OOMKilled === true;
  } catch {
    return false;
  }
}

export function describeExit(e: ExitInfo): string {
  return "lost" in e ? `lost contact with the daemon: ${e.lost}` : `exit code ${e.code}${e.oomKilled ? ", OOM-killed" : ""}`;
}
