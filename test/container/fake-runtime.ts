// A ContainerRuntime with no containers (no Docker needed): each guest is an in-process stand-in for
// runner.py that reads the job line and answers with frames through the real RunnerChannel, so the
// backend's own rules (sessions, warm pool, caps, outcomes, call relay) are tested over the seam a
// Kubernetes pod runtime would plug into. A job's `code` is a script of the stand-in's:
//   value:<json>   answer ok with that value          sleep          answer nothing
//   slow:<ms>      answer ok with <ms>, after <ms>
//   print:<n>      print n lines of 99 x, then ok      exit:<code>    end with that exit status
//   files          write forged, duplicate and unsorted output files
//   call           make one capability call, answer ok with the call's answer
//   call-late      make one call and answer ok at once (the call's answer comes after the job ended)
//   ready          forge a ready frame
import { RunnerChannel } from "../../src/container/channel.ts";
import type { Frame } from "../../src/container/frames.ts";
import type { ContainerRuntime, ExitInfo, FrameListener, GuestSpec, RunnerConnection } from "../../src/container/runtime.ts";

export class FakeConnection implements RunnerConnection {
  static #next = 0;
  readonly id = `fake-${FakeConnection.#next++}`;
  readonly exited: Promise<ExitInfo>;
  readonly spec: GuestSpec;
  /** Every line the backend sent this guest (job lines and call answers), parsed. */
  readonly received: Record<string, unknown>[] = [];
  disposed = 0;
  killed = 0;
  readonly #channel = new RunnerChannel();
  #exit!: (e: ExitInfo) => void;
  #dead = false;

  constructor(spec: GuestSpec) {
    this.spec = spec;
    this.exited = new Promise((resolve) => {
      this.#exit = resolve;
    });
  }

  get alive(): boolean {
    return !this.#dead && this.disposed === 0 && this.#channel.violation === undefined;
  }

  async start(): Promise<this> {
    const ready = this.#channel.ready(this.exited, 1_000);
    this.emit({ t: "ready" });
    await ready;
    return this;
  }

  listen(onFrame: FrameListener, onViolation: (why: string) => void, maxValueBytes: number): () => void {
    return this.#channel.listen(onFrame, onViolation, maxValueBytes);
  }

  /** A frame as the runner would write it, cut into 7-byte pieces (framing must not care). */
  emit(frame: Frame | Record<string, unknown>): void {
    const bytes = Buffer.from(JSON.stringify(frame) + "\n");
    for (let at = 0; at < bytes.length; at += 7) this.#channel.push(bytes.subarray(at, at + 7));
  }

  end(exit: ExitInfo): void {
    this.#dead = true;
    this.#exit(exit);
  }

  send(line: string): void {
    const msg = JSON.parse(line) as Record<string, unknown>;
    this.received.push(msg);
    if (msg.t === "answer") {
      const answer = msg.answer as { ok: boolean; json?: string };
      if (this.#waiting === msg.id) this.#result(answer.ok ? JSON.parse(answer.json ?? "null") : "refused");
      return;
    }
    queueMicrotask(() => this.#script(String(msg.code)));
  }

  #waiting: number | undefined;

  #script(code: string): void {
    const [verb, arg = ""] = code.split(/:(.*)/s);
    if (verb === "value") this.#result(JSON.parse(arg));
    else if (verb === "slow") setTimeout(() => this.#result(Number(arg)), Number(arg));
    else if (verb === "print") {
      this.emit({ t: "out", fd: 1, lines: Array.from({ length: Number(arg) }, () => "x".repeat(99)) });
      this.#result(null);
    } else if (verb === "exit") this.end({ code: Number(arg), oomKilled: false });
    else if (verb === "files") {
      for (const path of ["output/b.txt", "../evil", "output/a.txt", "output/b.txt", "/etc/passwd"]) {
        this.emit({ t: "file", path, data: Buffer.from(path).toString("base64"), end: true });
      }
      this.#result(null);
    } else if (verb === "call" || verb === "call-late") {
      this.#waiting = 7;
      this.emit({ t: "call", id: 7, kind: "binding", name: "add", args: "{}" });
      if (verb === "call-late") this.#result("answered early");
    } else if (verb === "ready") this.emit({ t: "ready" });
    // "sleep": nothing, until killed
  }

  #result(value: unknown): void {
    this.#waiting = undefined;
    this.emit({ t: "result", kind: "ok", ...(value === null ? {} : { value }), cpuMs: 1, maxRssBytes: 1024 });
  }

  async kill(): Promise<void> {
    this.killed++;
    this.end({ code: 137, oomKilled: false });
  }

  async dispose(): Promise<void> {
    this.disposed++;
    this.#channel.close();
    if (!this.#dead) this.end({ code: 137, oomKilled: false });
  }
}

export class FakeRuntime implements ContainerRuntime {
  readonly started: FakeConnection[] = [];
  reaped = 0;
  closed = 0;

  async start(spec: GuestSpec): Promise<RunnerConnection> {
    const conn = new FakeConnection(spec);
    this.started.push(conn);
    return conn.start();
  }

  async reapOrphans(): Promise<void> {
    this.reaped++;
  }

  async close(): Promise<void> {
    this.closed++;
  }
}
