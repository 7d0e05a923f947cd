// Runs in: the sandbox host process (its main thread and its worker threads). Messages between the
// host thread and the worker thread running a job, over the job's MessagePort.
import type { CallAnswer, CapabilityCall } from "../contract/calls.ts";
import type { RunResult } from "../contract/result.ts";
import type { InterruptShared } from "../python/interrupt.ts";

/** host thread → worker */
export type ToWorker = { t: "abort" } | { t: "answer"; callId: number; answer: CallAnswer };
/**
 * worker → host thread. `interrupt`: a Python guest's interrupt buffer (src/python/interrupt.ts);
 * `wake`: the job's wake buffer (./wake.ts).
 */
export type FromWorker =
  | { t: "started"; interrupt?: InterruptShared; wake: SharedArrayBuffer }
  | { t: "out"; fd: 1 | 2; lines: string[] }
  | { t: "call"; call: CapabilityCall }
  | { t: "result"; result: RunResult };
