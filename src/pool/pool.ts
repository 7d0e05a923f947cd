// GuestPool: the Piscina pool of worker threads inside the sandbox host process. It adds what
// Piscina cannot know: per-job streaming over a MessagePort, graceful abort of a running job, and a
// hard stop for a wedged worker thread (Piscina terminates and replaces it).
import { availableParallelism } from "node:os";
import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import { statusResult } from "../api/result.ts";
import type { RunResult } from "../api/schemas.ts";
import type { FromWorker, HostInit, WireJob } from "../host/protocol.ts";
import type { Task, WorkerData } from "./worker.ts";

/** How long past its deadline a job's thread may stay unresponsive before it is terminated. */
export const WEDGED_GRACE_MS = 2_000;

function workerFile(): URL {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return new URL(`./worker.${ext}`, import.meta.url);
}

export class GuestPool {
  readonly #piscina: Piscina<Task, RunResult>;

  constructor(init: HostInit) {
    const threads = Math.max(1, Math.min(init.threads, availableParallelism() * 4));
    const workerData: WorkerData = { warmJavascript: Math.ceil(init.warmJavascript / threads), defaultMemoryMb: init.defaultMemoryMb };
    this.#piscina = new Piscina<Task, RunResult>({
      filename: workerFile().href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: 1,
      workerData,
    });
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  async run(job: WireJob, onOut: (fd: 1 | 2, lines: string[]) => void, signal: AbortSignal): Promise<RunResult> {
    const { port1, port2 } = new MessageChannel();
    const cancel = new AbortController();
    let started = false;
    let wedged = false;
    let wedgeTimer: NodeJS.Timeout | undefined;
    let doneResolve!: () => void;
    const done = new Promise<void>((r) => { doneResolve = r; });
    port1.on("message", (m: FromWorker) => {
      if (m.t === "out") onOut(m.fd, m.lines);
      else if (m.t === "done") doneResolve();
      else if (m.t === "started") {
        started = true;
        // Threat: a worker thread stuck in host code past the deadline; kill the thread itself.
        wedgeTimer = setTimeout(() => { wedged = true; cancel.abort(); }, job.limits.timeoutMs + WEDGED_GRACE_MS);
      }
    });
    const onAbort = () => (started ? port1.postMessage({ t: "abort" }) : cancel.abort());
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    try {
      const result = await this.#piscina.run({ job, port: port2 }, { transferList: [port2], signal: cancel.signal });
      await done;
      return result;
    } catch (e) {
      if (wedged) return statusResult("timeout", "TimeoutError", `Job exceeded its wall-clock limit of ${job.limits.timeoutMs} ms and its worker thread was replaced`);
      if (cancel.signal.aborted) return statusResult("killed", "AbortError", "The job was aborted");
      return statusResult("crashed", "WorkerCrashed", `The worker thread running the job died: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      clearTimeout(wedgeTimer);
      signal.removeEventListener("abort", onAbort);
      port1.close();
    }
  }

  async close(): Promise<void> {
    await this.#piscina.destroy();
  }
}
