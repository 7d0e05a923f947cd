// Runs in: the embedding process. The one seam every backend plugs into (piscina's TaskQueue: a
// small interface, picked from a registry, with defaults). The door hands a backend an AdmittedJob
// and a JobIO; the backend answers with a RunResult whose `backend` is its name, and never throws
// for anything the guest did. Sessions are owned above the backends (src/sessions/): a backend
// keeps a session's guest and its run queue, nothing more.
import type { AdmittedJob } from "./admitted.ts";
import type { CallAnswer, CapabilityCall } from "./calls.ts";
import type { Outcome } from "./outcomes.ts";
import type { BackendName, RunResult } from "./result.ts";

/** What a running job may reach of its caller: its output, its capabilities, its abort. */
export interface JobIO {
  /** Lines as the guest printed them; never throws (the door guards the caller's callbacks). */
  onOutput(fd: 1 | 2, lines: string[]): void;
  /** Answers one capability call (the job's CallDispatcher: validation, budget, timeout, audit). */
  onCall(call: CapabilityCall): Promise<CallAnswer>;
  /** Which streams the caller listens to (a guest need not send lines nobody reads). */
  readonly stream: { readonly stdout: boolean; readonly stderr: boolean };
  /** Aborted when the caller aborts the job or the sandbox closes: the job ends `killed`. */
  readonly signal: AbortSignal;
}

export interface Backend {
  readonly name: BackendName;
  /** true when this backend can run the job; otherwise the refusal, saying why. */
  accepts(job: AdmittedJob): true | Outcome;
  run(job: AdmittedJob, io: JobIO): Promise<RunResult>;
  /** Ends a session's guest now (its variables and files go); a no-op for an unknown id. */
  endSession(id: string): Promise<void>;
  /** Ends every guest; runs in flight resolve `killed`. */
  close(): Promise<void>;
}
