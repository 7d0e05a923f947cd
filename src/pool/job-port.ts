// Runs in: the sandbox host process, main thread.
// driveJob: the host thread's end of one job's MessagePort, whichever thread runs the job (a pooled
// worker or a session's own). It relays streamed lines and capability calls, sets a Python guest's
// soft stop at the deadline, and ends the thread itself when it is wedged or deaf to an abort.
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { statusResult } from "../contract/result.ts";
import type { RunResult } from "../contract/result.ts";
import { InterruptBuffer } from "../python/interrupt.ts";
import type { FromWorker, ToWorker } from "./thread-protocol.ts";
import { WakeBuffer } from "./wake.ts";
import { type CallAnswer, type CapabilityCall } from "../contract/calls.ts";
import { CallRelay } from "../calls/relay.ts";
import type { WireJob } from "../contract/admitted.ts";
import { crashed, killed, wallTimeout, type Outcome } from "../contract/outcomes.ts";

/** How long past its deadline a job's thread may stay unresponsive before it is terminated. */
export const WEDGED_GRACE_MS = 1_000;
/** How long a running job may take to honour an abort before its worker thread is terminated. */
export const ABORT_GRACE_MS = 250;
const RESULT_GRACE_MS = 1_000;

/** A launch that ends without a result for a reason its thread's owner knows (a session was ended). */
export class LaunchEnded extends Error {
  readonly outcome: Outcome;
  constructor(outcome: Outcome) {
    super(outcome.error.message);
    this.outcome = outcome;
  }
}

/** A job's capability calls, relayed by the host process to the embedding process and answered. */
export type OnCall = (call: CapabilityCall) => Promise<CallAnswer>;
export type OnOut = (fd: 1 | 2, lines: string[]) => void;

export interface JobHooks {
  onOut: OnOut;
  onCall: OnCall;
  signal: AbortSignal;
  /** Hears of a thread that had to be terminated (it may not actually stop: recycle the process). */
  onWedged: () => void;
}

/**
 * `launch` hands the job's port to its thread and resolves when the thread is done with the job;
 * it rejects (or the thread dies) once `cancel` aborts.
 */
export function driveJob(job: WireJob, hooks: JobHooks, launch: (port: MessagePort, cancel: AbortSignal) => Promise<unknown>): Promise<RunResult> {
  const { onOut, onCall, signal } = hooks;
  const { port1, port2 } = new MessageChannel();
  const cancel = new AbortController();
  let started = false;
  let wedged = false;
  let wedgeTimer: NodeJS.Timeout | undefined;
  let abortGrace: NodeJS.Timeout | undefined;
  let softTimer: NodeJS.Timeout | undefined;
  let wake: WakeBuffer | null = null;
  // Every message to the worker bumps the job's wake buffer: a Python guest blocked in a call reads then.
  const toWorker = (m: ToWorker) => {
    port1.postMessage(m);
    wake?.bump();
  };
  // The worker's calls, answered back on the job's port until the job settles (src/calls/relay.ts).
  const calls = new CallRelay({ forward: onCall, reply: (callId, answer) => toWorker({ t: "answer", callId, answer }) });
  return new Promise<RunResult>((resolve) => {
    let settled = false;
    const finish = (result: RunResult) => {
      if (settled) return;
      settled = true;
      calls.close();
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
      else if (m.t === "call") calls.relay(m.call);
      else if (m.t === "started") {
        started = true;
        wake = new WakeBuffer(m.wake);
        // Soft stop for Python: the guest's thread is busy running it, so this thread sets the
        // interrupt buffer at the deadline (KeyboardInterrupt); isolated-vm stops it hard later.
        if (m.interrupt) {
          const interrupt = new InterruptBuffer(m.interrupt);
          softTimer = setTimeout(() => interrupt.set(), job.limits.timeoutMs);
        }
        // Threat: a worker thread stuck in host code past the deadline; kill the thread itself.
        wedgeTimer = setTimeout(() => { wedged = true; cancel.abort(); hooks.onWedged(); }, job.limits.timeoutMs + WEDGED_GRACE_MS);
      }
    });
    const onAbort = () => {
      if (!started) return cancel.abort();
      toWorker({ t: "abort" });
      // A guest busy in a synchronous slice cannot hear the message until the slice ends: past a
      // short grace, terminate the worker thread itself.
      abortGrace = setTimeout(() => cancel.abort(), ABORT_GRACE_MS);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    launch(port2, cancel.signal).then(
      // The result travels on the job's port, the task's completion on another channel: the two
      // are not ordered, so give a result already posted time to arrive before calling it lost.
      () => setTimeout(() => finish(statusResult(crashed("WorkerCrashed", "The worker thread finished the job without a result"))), RESULT_GRACE_MS),
      (e: unknown) => {
        if (wedged) finish(statusResult(wallTimeout(job.limits.timeoutMs, "its worker thread was replaced")));
        else if (cancel.signal.aborted) finish(statusResult(killed()));
        else if (e instanceof LaunchEnded) finish(statusResult(e.outcome));
        else finish(statusResult(crashed("WorkerCrashed", `The worker thread running the job died: ${e instanceof Error ? e.message : String(e)}`)));
      },
    );
  });
}
