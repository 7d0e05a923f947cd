// Runs in: the sandbox host process, main thread. SessionThreads: the guests that outlive a run. Each
// live session has its own worker thread holding its one guest, so its state (variables, files) is
// reachable only by jobs carrying its exact id (threat: one caller's session read by another job).
// A session ends on `end(id)`: the session registry above the backends (src/sessions/) decides when
// (idle timeout, maximum age, least-recently-used eviction), for both backends alike.
import { Worker, type MessagePort } from "node:worker_threads";
import type { RunResult } from "../contract/result.ts";
import type { WireJob } from "../contract/admitted.ts";
import { killed } from "../contract/outcomes.ts";
import { driveJob, LaunchEnded, type JobHooks } from "./job-port.ts";
import type { WorkerData } from "./worker.ts";

interface Session {
  worker: Worker;
  /** Set when the session was ended on purpose: a run cut short by it is `killed`, not `crashed`. */
  ended: boolean;
  /** Runs of one session go one after another, in arrival order. */
  queue: Promise<unknown>;
}

function sessionWorkerFile(): URL {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return new URL(`./session-worker.${ext}`, import.meta.url);
}

export class SessionThreads {
  readonly #sessions = new Map<string, Session>();
  readonly #workerData: WorkerData;
  #closed = false;
  /**
   * A thread started ahead of the next new session (once sessions are in use): loading a thread's
   * modules takes ~0.4 s, which the next session's first run would otherwise wait for.
   */
  #spare: Worker | null = null;

  constructor(workerData: WorkerData) {
    this.#workerData = { ...workerData, warmJavascript: 0, warmPython: 0 };
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** One run of a session, after the ones before it. Which sessions may live, and for how long, is
   * the session registry's to decide (src/sessions/); this keeps the thread and its guest. */
  run(job: WireJob, hooks: JobHooks): Promise<RunResult> {
    const id = job.session!;
    let session = this.#sessions.get(id);
    if (!session) {
      session = this.#open(id);
      this.#sessions.set(id, session);
    }
    const s = session;
    const result = s.queue.then(() => driveJob(job, hooks, (port, cancel) => this.#launch(id, s, job, port, cancel)));
    s.queue = result.catch(() => {});
    return result;
  }

  #thread(): Worker {
    return new Worker(sessionWorkerFile(), {
      workerData: this.#workerData,
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
    });
  }

  #open(id: string): Session {
    const worker = this.#spare ?? this.#thread();
    this.#spare = null;
    setImmediate(() => {
      if (this.#closed || this.#spare) return;
      this.#spare = this.#thread();
      this.#spare.on("error", () => {
        this.#spare = null;
      });
      this.#spare.unref();
    });
    worker.ref();
    const session: Session = { worker, ended: false, queue: Promise.resolve() };
    worker.on("error", () => {}); // surfaced as the running job's `crashed`
    worker.on("exit", () => {
      if (this.#sessions.get(id) === session) this.#forget(id);
    });
    return session;
  }

  /** One run on the session's thread: resolves when the thread is done with it. */
  #launch(id: string, s: Session, job: WireJob, port: MessagePort, cancel: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (s.ended) {
        // The session was ended while this run waited its turn: its thread is gone.
        return reject(new LaunchEnded(killed("The session was ended before the job ran")));
      }
      // Matched by job id: the previous run's "done" may arrive after this run was handed over.
      const onMessage = (m: { t?: string; id?: string }) => {
        if (m?.t === "done" && m.id === job.id) {
          cleanup();
          resolve();
        }
      };
      const onExit = () => {
        cleanup();
        reject(s.ended ? new LaunchEnded(killed("The session was ended while the job ran")) : new Error("the session's thread ended"));
      };
      // A wedged or deaf thread is terminated; the session goes with it.
      const onCancel = () => {
        this.end(id);
      };
      const cleanup = () => {
        s.worker.off("message", onMessage);
        s.worker.off("exit", onExit);
        cancel.removeEventListener("abort", onCancel);
      };
      s.worker.on("message", onMessage);
      s.worker.once("exit", onExit);
      cancel.addEventListener("abort", onCancel, { once: true });
      s.worker.postMessage({ job, port }, [port]);
    });
  }

  #forget(id: string): void {
    this.#sessions.delete(id);
  }

  /** Ends a session: its thread and guest go; a run in progress resolves `crashed`/`killed`. */
  end(id: string): void {
    const s = this.#sessions.get(id);
    if (!s) return;
    s.ended = true;
    this.#forget(id);
    void s.worker.terminate();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const workers = [...this.#sessions.values()].map((s) => s.worker);
    if (this.#spare) workers.push(this.#spare);
    this.#spare = null;
    for (const id of [...this.#sessions.keys()]) this.#forget(id);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
