// Runs in: the embedding process.
// SandboxHost: the embedding process's handle on the sandbox host process. It spawns it with the
// flags isolated-vm needs, routes results and streamed lines by job id, answers every in-flight job
// with `crashed` if the process dies, and starts a new one for the next jobs. A process that asks to
// be recycled (one of its threads is wedged) gets no new jobs, finishes its own, and is then ended.
import { fork, type ChildProcess } from "node:child_process";
import { statusResult } from "../contract/result.ts";
import type { RunResult } from "../contract/result.ts";
import type { WireJob } from "../contract/admitted.ts";
import type { HostInit } from "../pool/init.ts";
import { FromHostSchema, type ToHost } from "./protocol.ts";
import { type CallAnswer, type CapabilityCall } from "../contract/calls.ts";
import { CallRelay } from "../calls/relay.ts";
import { hostEnv, hostExecArgv } from "./flags.ts";
import { crashed, sandboxClosed } from "../contract/outcomes.ts";

interface InFlight {
  resolve: (r: RunResult) => void;
  onOut: (fd: 1 | 2, lines: string[]) => void;
  child: ChildProcess;
  /** The job's calls from its process, answered back to it until the job settles. */
  calls: CallRelay;
}

const CRASH_WINDOW_MS = 10_000;
const CRASHES_BEFORE_BACKOFF = 5;
const STDERR_TAIL = 4096;
/** A draining process is ended at the latest this long after it asked to be recycled. */
const MAX_DRAIN_MS = 120_000;

function childFile(): string {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return new URL(`./child.${ext}`, import.meta.url).pathname;
}

export class SandboxHost {
  #child: ChildProcess | null = null;
  readonly #draining = new Set<ChildProcess>();
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

  /** The current sandbox host process id (diagnostics and crash tests). */
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
      child.once("message", () => {
        child.off("exit", onExit);
        resolve();
      });
    });
    this.#ready.catch(() => {});
    child.on("message", (m) => this.#onMessage(child, m));
    child.on("exit", (code, signal) => this.#onExit(child, code, signal));
    child.on("error", () => {}); // surfaced through "exit"
    this.#updateRef(child);
  }

  #onMessage(child: ChildProcess, raw: unknown): void {
    // Threat: a compromised host process sending malformed results; validate before trusting.
    const parsed = FromHostSchema.safeParse(raw);
    if (!parsed.success) return;
    const m = parsed.data;
    if (m.t === "ready") {
      if (child === this.#child) this.#pid = m.pid;
    } else if (m.t === "recycle") this.#recycle(child);
    else {
      const job = this.#inflight.get(m.id);
      if (!job || job.child !== child) return; // a process may only answer for its own jobs
      if (m.t === "out") job.onOut(m.fd, m.lines);
      else if (m.t === "result") this.#settle(m.id, m.result as RunResult);
      else if (m.t === "call") job.calls.relay(m.call);
    }
  }

  #settle(id: string, result: RunResult): void {
    const job = this.#inflight.get(id);
    if (!job) return;
    this.#inflight.delete(id);
    job.calls.close();
    this.#updateRef(job.child);
    job.resolve(result);
    if (this.#draining.has(job.child) && !this.#hasJobs(job.child)) job.child.kill("SIGKILL");
  }

  #hasJobs(child: ChildProcess): boolean {
    for (const j of this.#inflight.values()) if (j.child === child) return true;
    return false;
  }

  /** The process reported a wedged thread: new jobs go to a fresh process, this one drains. */
  #recycle(child: ChildProcess): void {
    if (child !== this.#child || this.#closed) return;
    this.#draining.add(child);
    this.#child = null;
    if (!this.#hasJobs(child)) child.kill("SIGKILL");
    else setTimeout(() => child.kill("SIGKILL"), MAX_DRAIN_MS).unref();
    this.#spawn();
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
    for (const [id, job] of [...this.#inflight]) {
      if (job.child === child) this.#settle(id, statusResult(crashed("HostCrashed", `The sandbox host process ${why}; the job was lost`)));
    }
    if (this.#draining.delete(child) || child !== this.#child) return;
    this.#child = null;
    if (this.#closed) return;
    const now = Date.now();
    this.#crashes = [...this.#crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    const delay = this.#crashes.length > CRASHES_BEFORE_BACKOFF ? 1000 : 0;
    setTimeout(() => {
      if (!this.#closed && !this.#child) this.#spawn();
    }, delay).unref();
  }

  /** The embedding app may exit while no job is in flight: an idle host process holds no ref. */
  #updateRef(child: ChildProcess): void {
    const channel = child.channel as { ref?: () => void; unref?: () => void } | undefined;
    if (this.#hasJobs(child)) {
      child.ref();
      channel?.ref?.();
    } else {
      child.unref();
      channel?.unref?.();
    }
  }

  run(job: WireJob, onOut: InFlight["onOut"], onCall: (call: CapabilityCall) => Promise<CallAnswer>): Promise<RunResult> {
    // Threat: a job arriving after close() would spawn a host process nobody ends.
    if (this.#closed) return Promise.resolve(statusResult(sandboxClosed()));
    return new Promise<RunResult>((resolve) => {
      if (!this.#child) this.#spawn(); // restarting after a crash: this job goes to the new process
      const child = this.#child!;
      const calls = new CallRelay({
        forward: onCall,
        reply: (callId, answer) => {
          if (child.connected) child.send({ t: "answer", id: job.id, callId, answer } satisfies ToHost);
        },
      });
      this.#inflight.set(job.id, { resolve, onOut, child, calls });
      this.#updateRef(child);
      const send = () => {
        if (!this.#inflight.has(job.id)) return;
        if (!child.connected) {
          this.#settle(job.id, statusResult(crashed("HostCrashed", "The sandbox host process is not running")));
          return;
        }
        child.send({ t: "run", job } satisfies ToHost);
      };
      this.#ready.then(send, send);
    });
  }

  /** Ends a session in the current host process (a crashed process took its sessions with it). */
  endSession(session: string): void {
    if (this.#child?.connected) this.#child.send({ t: "endSession", session } satisfies ToHost);
  }

  abort(id: string): void {
    const job = this.#inflight.get(id);
    if (job?.child.connected) job.child.send({ t: "abort", id } satisfies ToHost);
  }

  /** Ends the host processes; every job still in flight resolves with `killed`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const id of [...this.#inflight.keys()]) this.#settle(id, statusResult(sandboxClosed()));
    const children = [this.#child, ...this.#draining].filter((c): c is ChildProcess => !!c);
    this.#child = null;
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once("exit", r));
        child.ref(); // an unref'd child's exit would not keep the caller's await alive
        child.kill("SIGKILL");
        await exited;
      }),
    );
  }
}
