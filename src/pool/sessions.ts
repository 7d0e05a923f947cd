// SessionThreads: the guests that outlive a run. Each live session has its own worker thread holding
// its one guest, so its state (variables, files) is reachable only by jobs carrying its exact id
// (threat: one caller's session read by another job). Sessions end on `end(id)`, after an idle
// timeout or a maximum age, or by least-recently-used eviction when the cap on live sessions is hit.
import { sessionMemoryMessage } from "../api/session-limits.ts";
import { Worker, type MessagePort } from "node:worker_threads";
import { statusResult } from "../api/result.ts";
import type { RunResult } from "../api/schemas.ts";
import type { WireJob } from "../host/protocol.ts";
import { driveJob, type JobHooks } from "./job-port.ts";
import type { WorkerData } from "./worker.ts";

export interface SessionLimits {
  maxSessions: number;
  idleTimeoutMs: number;
  maxAgeMs: number;
}

interface Session {
  worker: Worker;
  language: WireJob["language"];
  /** The guest's memory cap, fixed when its isolate was made (a later run cannot change it). */
  memoryMb: number;
  createdAt: number;
  busy: number;
  /** Set when the session was ended on purpose: a run cut short by it is `killed`, not `crashed`. */
  ended: boolean;
  idleTimer?: NodeJS.Timeout;
  ageTimer: NodeJS.Timeout;
  /** Runs of one session go one after another, in arrival order. */
  queue: Promise<unknown>;
}

function sessionWorkerFile(): URL {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return new URL(`./session-worker.${ext}`, import.meta.url);
}

export class SessionThreads {
  /** Insertion order is recency: a session is moved to the end whenever it is used. */
  readonly #sessions = new Map<string, Session>();
  readonly #limits: SessionLimits;
  readonly #workerData: WorkerData;

  constructor(limits: SessionLimits, workerData: WorkerData) {
    this.#limits = limits;
    this.#workerData = { ...workerData, warmJavascript: 0, warmPython: 0 };
  }

  get size(): number {
    return this.#sessions.size;
  }

  run(job: WireJob, hooks: JobHooks): Promise<RunResult> {
    const id = job.session!;
    let session = this.#sessions.get(id);
    if (session && session.language !== job.language && !(isJs(session.language) && isJs(job.language))) {
      return Promise.resolve(statusResult("rejected", "SessionLanguage", `session: this session runs ${session.language}; start another session for ${job.language}`));
    }
    if (session && session.memoryMb !== job.limits.memoryMb) {
      return Promise.resolve(statusResult("rejected", "SessionLimits", sessionMemoryMessage(session.memoryMb, job.limits.memoryMb)));
    }
    if (!session) {
      if (this.#sessions.size >= this.#limits.maxSessions && !this.#evictOne()) {
        return Promise.resolve(statusResult("rejected", "TooManySessions", `session: all ${this.#limits.maxSessions} live sessions are busy; end one with endSession(id)`));
      }
      session = this.#open(id, job.language, job.limits.memoryMb);
    }
    this.#sessions.delete(id);
    this.#sessions.set(id, session);
    const s = session;
    s.busy++;
    clearTimeout(s.idleTimer);
    const result = s.queue.then(() => driveJob(job, hooks, (port, cancel) => this.#launch(id, s, job, port, cancel)));
    s.queue = result.catch(() => {});
    return result.finally(() => {
      s.busy--;
      if (s.busy === 0 && this.#sessions.get(id) === s) s.idleTimer = setTimeout(() => this.end(id), this.#limits.idleTimeoutMs).unref();
    });
  }

  /**
   * A thread started ahead of the next new session (once sessions are in use): loading a thread's
   * modules takes ~0.4 s, which the next session's first run would otherwise wait for.
   */
  #spare: Worker | null = null;

  #thread(): Worker {
    return new Worker(sessionWorkerFile(), {
      workerData: this.#workerData,
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
    });
  }

  #open(id: string, language: WireJob["language"], memoryMb: number): Session {
    const worker = this.#spare ?? this.#thread();
    this.#spare = null;
    setImmediate(() => {
      if (this.#closed || this.#spare) return;
      this.#spare = this.#thread();
      this.#spare.on("error", () => { this.#spare = null; });
      this.#spare.unref();
    });
    worker.ref();
    const session: Session = {
      worker, language, memoryMb, createdAt: Date.now(), busy: 0, ended: false, queue: Promise.resolve(),
      ageTimer: setTimeout(() => this.end(id), this.#limits.maxAgeMs).unref(),
    };
    worker.on("error", () => {}); // surfaced as the running job's `crashed`
    worker.on("exit", () => { if (this.#sessions.get(id) === session) this.#forget(id); });
    return session;
  }

  /** One run on the session's thread: resolves when the thread is done with it. */
  #launch(id: string, s: Session, job: WireJob, port: MessagePort, cancel: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (s.ended) {
        // The session was ended while this run waited its turn: its thread is gone.
        const e = new Error("The session was ended before the job ran");
        e.name = "AbortError";
        return reject(e);
      }
      // Matched by job id: the previous run's "done" may arrive after this run was handed over.
      const onMessage = (m: { t?: string; id?: string }) => { if (m?.t === "done" && m.id === job.id) { cleanup(); resolve(); } };
      const onExit = () => {
        cleanup();
        const e = new Error(s.ended ? "The session was ended while the job ran" : "the session's thread ended");
        if (s.ended) e.name = "AbortError";
        reject(e);
      };
      // A wedged or deaf thread is terminated; the session goes with it.
      const onCancel = () => { this.end(id); };
      const cleanup = () => { s.worker.off("message", onMessage); s.worker.off("exit", onExit); cancel.removeEventListener("abort", onCancel); };
      s.worker.on("message", onMessage);
      s.worker.once("exit", onExit);
      cancel.addEventListener("abort", onCancel, { once: true });
      s.worker.postMessage({ job, port }, [port]);
    });
  }

  /** The least recently used idle session, ended to make room; false when every one is busy. */
  #evictOne(): boolean {
    for (const [id, s] of this.#sessions) {
      if (s.busy === 0) { this.end(id); return true; }
    }
    return false;
  }

  #forget(id: string): void {
    const s = this.#sessions.get(id);
    if (!s) return;
    this.#sessions.delete(id);
    clearTimeout(s.idleTimer);
    clearTimeout(s.ageTimer);
  }

  /** Ends a session: its thread and guest go; a run in progress resolves `crashed`/`killed`. */
  end(id: string): void {
    const s = this.#sessions.get(id);
    if (!s) return;
    s.ended = true;
    this.#forget(id);
    void s.worker.terminate();
  }

  #closed = false;

  async close(): Promise<void> {
    this.#closed = true;
    const workers = [...this.#sessions.values()].map((s) => s.worker);
    if (this.#spare) workers.push(this.#spare);
    this.#spare = null;
    for (const id of [...this.#sessions.keys()]) this.#forget(id);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function isJs(language: WireJob["language"]): boolean {
  return language === "javascript" || language === "typescript";
}
