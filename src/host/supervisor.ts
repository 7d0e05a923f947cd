// SandboxHost: the embedding process's handle on the sandbox host process. It spawns it with the
// flags isolated-vm needs, routes results and streamed lines by job id, answers every in-flight job
// with `crashed` if the process dies, and starts a new one for the next jobs.
import { fork, type ChildProcess } from "node:child_process";
import { statusResult } from "../api/result.ts";
import type { RunResult } from "../api/schemas.ts";
import { FromHostSchema, type HostInit, type ToHost, type WireJob } from "./protocol.ts";
import { hostEnv, hostExecArgv } from "./flags.ts";

interface InFlight {
  resolve: (r: RunResult) => void;
  onOut: (fd: 1 | 2, lines: string[]) => void;
}

const CRASH_WINDOW_MS = 10_000;
const CRASHES_BEFORE_BACKOFF = 5;
const STDERR_TAIL = 4096;

function childFile(): string {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return new URL(`./child.${ext}`, import.meta.url).pathname;
}

export class SandboxHost {
  #child: ChildProcess | null = null;
  #ready: Promise<void> = Promise.resolve();
  #pid = 0;
  readonly #inflight = new Map<string, InFlight>();
  #closed = false;
  #crashes: number[] = [];
  #stderrTail = "";

  readonly #init: HostInit;

  constructor(init: HostInit) {
    this.#init = init;
    this.#spawn();
  }

  /** Resolves once the host process answered; rejects if it could not start at all. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** The sandbox host process id (diagnostics and crash tests). */
  get pid(): number {
    return this.#pid;
  }

  #spawn(): void {
    const child = fork(childFile(), [JSON.stringify(this.#init)], {
      execArgv: hostExecArgv(),
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: hostEnv(),
    });
    this.#child = child;
    child.stderr?.on("data", (d: Buffer) => {
      this.#stderrTail = (this.#stderrTail + d.toString()).slice(-STDERR_TAIL);
      if (process.env.ISOBOX_DEBUG) process.stderr.write(d);
    });
    this.#ready = new Promise<void>((resolve, reject) => {
      const onExit = () => reject(new Error(`isobox: the sandbox host process exited during start-up: ${this.#stderrTail.trim()}`));
      child.once("exit", onExit);
      child.once("message", () => { child.off("exit", onExit); resolve(); });
    });
    this.#ready.catch(() => {});
    child.on("message", (m) => this.#onMessage(m));
    child.on("exit", (code, signal) => this.#onExit(child, code, signal));
    child.on("error", () => {}); // surfaced through "exit"
    this.#updateRef();
  }

  #onMessage(raw: unknown): void {
    // Threat: a compromised host process sending malformed results; validate before trusting.
    const parsed = FromHostSchema.safeParse(raw);
    if (!parsed.success) return;
    const m = parsed.data;
    if (m.t === "ready") this.#pid = m.pid;
    else if (m.t === "out") this.#inflight.get(m.id)?.onOut(m.fd, m.lines);
    else if (m.t === "result") this.#settle(m.id, m.result as RunResult);
  }

  #settle(id: string, result: RunResult): void {
    const job = this.#inflight.get(id);
    if (!job) return;
    this.#inflight.delete(id);
    this.#updateRef();
    job.resolve(result);
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.#child) return;
    this.#child = null;
    const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
    for (const id of [...this.#inflight.keys()]) {
      this.#settle(id, statusResult("crashed", "HostCrashed", `The sandbox host process ${why}; the job was lost`));
    }
    if (this.#closed) return;
    const now = Date.now();
    this.#crashes = [...this.#crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    const delay = this.#crashes.length > CRASHES_BEFORE_BACKOFF ? 1000 : 0;
    setTimeout(() => { if (!this.#closed && !this.#child) this.#spawn(); }, delay).unref();
  }

  /** The embedding app may exit while no job is in flight: the host process holds no ref then. */
  #updateRef(): void {
    const c = this.#child;
    if (!c) return;
    const channel = c.channel as { ref?: () => void; unref?: () => void } | undefined;
    if (this.#inflight.size > 0) { c.ref(); channel?.ref?.(); }
    else { c.unref(); channel?.unref?.(); }
  }

  run(job: WireJob, onOut: InFlight["onOut"]): Promise<RunResult> {
    return new Promise<RunResult>((resolve) => {
      this.#inflight.set(job.id, { resolve, onOut });
      this.#updateRef();
      const send = () => {
        if (!this.#inflight.has(job.id)) return;
        if (!this.#child?.connected) {
          this.#settle(job.id, statusResult("crashed", "HostCrashed", "The sandbox host process is not running"));
          return;
        }
        this.#child.send({ t: "run", job } satisfies ToHost);
      };
      if (!this.#child) this.#spawn(); // restarting after a crash: this job goes to the new process
      this.#ready.then(send, send);
    });
  }

  abort(id: string): void {
    if (this.#inflight.has(id) && this.#child?.connected) this.#child.send({ t: "abort", id } satisfies ToHost);
  }

  /** Ends the host process; every job still in flight resolves with `killed`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const id of [...this.#inflight.keys()]) this.#settle(id, statusResult("killed", "SandboxClosed", "The sandbox was closed"));
    const child = this.#child;
    this.#child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.ref(); // an unref'd child's exit would not keep the caller's await alive
      child.kill("SIGKILL");
      await exited;
    }
  }
}
