// Runs in: the sandbox host process, main thread.
// GuestPool: the Piscina pool of worker threads inside the sandbox host process. It adds what
// Piscina cannot know: per-job streaming over a MessagePort, graceful abort of a running job, and a
// hard stop for a wedged worker thread (Piscina terminates and replaces it).
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { statusResult } from "../contract/result.ts";
import type { RunResult } from "../contract/result.ts";
import type { HostInit } from "./init.ts";
import type { WireJob } from "../contract/admitted.ts";
import { driveJob, type OnCall, type OnOut } from "./job-port.ts";
import { SessionThreads } from "./sessions.ts";
import { JobSlots } from "./slots.ts";
import type { Task, WorkerData } from "./worker.ts";
import { abortedBeforeStart } from "../contract/outcomes.ts";

const THREADS_PER_SLOT = 2;

/**
 * The Pyodide snapshot read once for every worker thread (one 30 MB buffer instead of one per
 * thread). Workers only read from it: each guest gets its own copy.
 */
function sharedSnapshot(file: string): SharedArrayBuffer | undefined {
  if (!existsSync(file)) return undefined;
  const bytes = readFileSync(file);
  const shared = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(shared).set(bytes);
  return shared;
}

function workerFile(): URL {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return new URL(`./worker.${ext}`, import.meta.url);
}

export class GuestPool {
  readonly #piscina: Piscina<Task, void>;

  readonly #onWedged: () => void;
  readonly #slots: JobSlots;
  readonly #sessions: SessionThreads;

  /**
   * `onWedged` hears of a worker thread that had to be terminated: a thread stuck in native code
   * (a V8 GC death spiral, say) may not actually stop, so the process should be recycled.
   */
  constructor(init: HostInit, onWedged: () => void = () => {}) {
    this.#onWedged = onWedged;
    const concurrency = Math.max(1, Math.min(init.threads, availableParallelism() * 4));
    this.#slots = new JobSlots(concurrency);
    // Twice the threads of the jobs allowed at once: a thread that just answered spends ~2 ms
    // disposing and refilling, and the next job should find an idle thread rather than wait for it.
    // (Measured on 2 cores, sequential trivial jobs: p50 1.8 ms with as many threads as slots.)
    const threads = concurrency * THREADS_PER_SLOT;
    const workerData: WorkerData = {
      warmJavascript: Math.ceil(init.warmJavascript / threads),
      defaultMemoryMb: init.defaultMemoryMb,
      warmPython: Math.ceil(init.warmPython / threads),
      defaultPythonMemoryMb: init.defaultPythonMemoryMb,
      ...(init.pythonSnapshot ? { pythonSnapshot: init.pythonSnapshot, pythonSnapshotBytes: sharedSnapshot(init.pythonSnapshot) } : {}),
    };
    this.#sessions = new SessionThreads(workerData);
    this.#piscina = new Piscina<Task, void>({
      filename: workerFile().href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: 1,
      // The worker's own heap holds only job plumbing (guests live in their isolates' heaps): a
      // worker past this is broken, and is replaced rather than allowed to take the process down.
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
      workerData,
    });
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  /** Resolves once every thread has started and filled its warm guests (first job is warm). */
  async warmUp(): Promise<void> {
    await Promise.all(Array.from({ length: this.#piscina.options.maxThreads }, () => this.#piscina.run({ warmup: true })));
  }

  /** Runs one job in its turn; resolves with its result as soon as the worker posts it (see worker.ts). */
  async run(job: WireJob, onOut: OnOut, signal: AbortSignal, onCall: OnCall): Promise<RunResult> {
    const release = await this.#slots.acquire(signal);
    if (!release) return statusResult(abortedBeforeStart());
    try {
      return await this.#dispatch(job, onOut, signal, onCall);
    } finally {
      release();
    }
  }

  #dispatch(job: WireJob, onOut: OnOut, signal: AbortSignal, onCall: OnCall): Promise<RunResult> {
    if (job.session !== undefined) return this.#sessions.run(job, { onOut, onCall, signal, onWedged: this.#onWedged });
    return driveJob(job, { onOut, onCall, signal, onWedged: this.#onWedged }, (port, cancel) =>
      this.#piscina.run({ job, port }, { transferList: [port], signal: cancel }),
    );
  }

  endSession(id: string): void {
    this.#sessions.end(id);
  }

  async close(): Promise<void> {
    await this.#sessions.close();
    await this.#piscina.destroy();
  }
}
