// Runs in: the sandbox host process (its main thread and its worker threads). Messages between the
// host thread and the worker thread running a job, over the job's MessagePort.
import type { CallAnswer, CapabilityCall } from "../contract/calls.ts";
import type { RunResult } from "../contract/result.ts";

/** host thread → worker */
export type ToWorker = { t: "abort" } | { t: "answer"; callId: number; answer: CallAnswer };
/**
 * Int32 slot of a job's call-wakeup buffer: bumped by the host thread after every message it posts
 * to the job's worker, so a guest blocked in a synchronous call (Python) wakes to read its port.
 */
export const WAKE_SEQ = 0;
/** worker → host thread. `interrupt`: a Python guest's interrupt buffer (src/python/interrupt.ts). */
export type FromWorker =
  | { t: "started"; interrupt?: SharedArrayBuffer; wake: SharedArrayBuffer }
  | { t: "out"; fd: 1 | 2; lines: string[] }
  | { t: "call"; call: CapabilityCall }
  | { t: "result"; result: RunResult };
