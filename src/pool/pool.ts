// GuestPool: the Piscina pool of worker threads inside the sandbox host process. It adds what
// Piscina cannot know: per-job streaming over a MessagePort, graceful abort of a running job, and a
// hard stop for a wedged worker thread (Piscina terminates and replaces it).
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import { statusResult } from "../api/result.ts";
import type { RunResult } from "../api/schemas.ts";
import {
  INTERRUPT_SENT, INTERRUPT_SIGNAL, SIGINT, WAKE_SEQ,
  type CallAnswer, type CapabilityCall, type FromWorker, type HostInit, type ToWorker, type WireJob,
} from "../host/protocol.ts";
import { JobSlots } from "./slots.ts";
import type { Task, WorkerData } from "./worker.ts";

/** How long past its deadline a job's thread may stay unresponsive before it is terminated. */
export const WEDGED_GRACE_MS = 1_000;
/** How long a running job may take to honour an abort before its worker thread is terminated. */
export const ABORT_GRACE_MS = 250;
const RESULT_GRACE_MS = 1_000;
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

/** A job's capability calls, relayed by the host process to the embedding process and answered. */
export type OnCall = (call: CapabilityCall, answer: (a: CallAnswer) => void) => void;
export type OnOut = (fd: 1 | 2, lines: string[]) => void;

export class GuestPool {
  readonly #piscina: Piscina<Task, void>;

  readonly #onWedged: () => void;
  readonly #slots: JobSlots;

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
    if (!release) return statusResult("killed", "AbortError", "The job was aborted before it started");
    try {
      return await this.#dispatch(job, onOut, signal, onCall);
    } finally {
      release();
    }
  }

  #dispatch(job: WireJob, onOut: OnOut, signal: AbortSignal, onCall: OnCall): Promise<RunResult> {
    const { port1, port2 } = new MessageChannel();
    const cancel = new AbortController();
    let started = false;
    let wedged = false;
    let wedgeTimer: NodeJS.Timeout | undefined;
    let abortGrace: NodeJS.Timeout | undefined;
    let softTimer: NodeJS.Timeout | undefined;
    let wake: Int32Array | null = null;
    // Every message to the worker bumps the job's wake buffer: a Python guest blocked in a call reads then.
    const toWorker = (m: ToWorker) => {
      port1.postMessage(m);
      if (wake) { Atomics.add(wake, WAKE_SEQ, 1); Atomics.notify(wake, WAKE_SEQ); }
    };
    return new Promise<RunResult>((resolve) => {
      let settled = false;
      const finish = (result: RunResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(wedgeTimer);
        clearTimeout(abortGrace);
        clearTimeout(softTimer);
        signal.removeEventListener("abort", onAbort);
        resolve(result);
        // Closed after the result has been sent on (the caller's continuations run first): the
        // worker waits for this before its CPU-heavy dispose and refill.
        setImmediate(() => port1.close());
      };
      port1.on("message", (m: FromWorker) => {
        if (m.t === "out") onOut(m.fd, m.lines);
        else if (m.t === "result") finish(m.result);
        else if (m.t === "call") onCall(m.call, (answer) => { if (!settled) toWorker({ t: "answer", callId: m.call.callId, answer }); });
        else if (m.t === "started") {
          started = true;
          wake = new Int32Array(m.wake);
          // Soft stop for Python: the guest's thread is busy running it, so this thread sets the
          // interrupt buffer at the deadline (KeyboardInterrupt); isolated-vm stops it hard later.
          if (m.interrupt) {
            const view = new Int32Array(m.interrupt);
            softTimer = setTimeout(() => {
              Atomics.store(view, INTERRUPT_SENT, 1);
              Atomics.store(view, INTERRUPT_SIGNAL, SIGINT);
            }, job.limits.timeoutMs);
          }
          // Threat: a worker thread stuck in host code past the deadline; kill the thread itself.
          wedgeTimer = setTimeout(() => { wedged = true; cancel.abort(); this.#onWedged(); }, job.limits.timeoutMs + WEDGED_GRACE_MS);
        }
      });
      const onAbort = () => {
        if (!started) return cancel.abort();
        toWorker({ t: "abort" });
        // A guest busy in a synchronous slice cannot hear the message until the slice ends: past a
        // short grace, terminate the worker thread itself (Piscina replaces it).
        abortGrace = setTimeout(() => cancel.abort(), ABORT_GRACE_MS);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      this.#piscina.run({ job, port: port2 }, { transferList: [port2], signal: cancel.signal }).then(
        // The result travels on the job's port, the task's completion on Piscina's: the two are not
        // ordered, so give a result already posted time to arrive before calling it lost.
        () => setTimeout(() => finish(statusResult("crashed", "WorkerCrashed", "The worker thread finished the job without a result")), RESULT_GRACE_MS),
        (e: unknown) => {
          if (wedged) finish(statusResult("timeout", "TimeoutError", `Job exceeded its wall-clock limit of ${job.limits.timeoutMs} ms and its worker thread was replaced`));
          else if (cancel.signal.aborted) finish(statusResult("killed", "AbortError", "The job was aborted"));
          else finish(statusResult("crashed", "WorkerCrashed", `The worker thread running the job died: ${e instanceof Error ? e.message : String(e)}`));
        },
      );
    });
  }

  async close(): Promise<void> {
    await this.#piscina.destroy();
  }
}
