// Runs in: the sandbox host process, a worker thread (pooled or a session's own).
// One job on the thread that runs it, whichever thread that is: a pooled worker (a fresh guest
// per job) or a session's own worker (one guest kept between runs). The result goes back over the
// job's port as soon as it exists; the guest source then decides what becomes of the guest.
import type { MessagePort } from "node:worker_threads";
import { buildResult, statusResult } from "../contract/result.ts";
import type { RunResult } from "../contract/result.ts";
import type { FromWorker, ToWorker } from "./thread-protocol.ts";
import type { WireJob } from "../contract/admitted.ts";
import type { IsolateGuest } from "../isolate/guest.ts";
import { OutputSink } from "../isolate/output.ts";
import { PythonGuest } from "../python/python-guest.ts";
import { CallChannel } from "./calls.ts";
import { crashed, killed, outputLimit } from "../contract/outcomes.ts";

/** Where a job's guest comes from, and where it goes after the job (the guest's one owner). */
export interface GuestSource {
  take(job: WireJob): Promise<IsolateGuest>;
  /** After the result was forwarded: dispose the guest (pool) or keep it for the next run (session). */
  release(guest: IsolateGuest, result: RunResult): void;
}

/** Upper bound on waiting for the host to forward a result before releasing the guest anyway. */
const FORWARD_WAIT_MS = 20;

/** What the job's call channel reads as the job goes: its guest once there is one, and its clock. */
interface JobState {
  guest: IsolateGuest | undefined;
  started: number;
}

export async function runJob(job: WireJob, port: MessagePort, source: GuestSource): Promise<void> {
  const post = (m: FromWorker) => port.postMessage(m);
  const state: JobState = { guest: undefined, started: performance.now() };
  const calls = openCalls(job, port, state);
  const running = await startGuest(job, source, state, calls, post);
  if (!running) return;
  let result: RunResult = statusResult(crashed("GuestCrashed", "The guest failed before it answered"));
  try {
    result = await runGuest(running, job, calls, post);
    await forwardResult(port, post, result);
  } finally {
    source.release(running, result);
  }
}

/** The job's binding calls, and the host's abort, which terminates the guest wherever it is. */
function openCalls(job: WireJob, port: MessagePort, state: JobState): CallChannel {
  const calls = new CallChannel(
    port,
    {
      maxCalls: job.limits.maxBindingCalls,
      callTimeoutMs: job.limits.bindingTimeoutMs,
      remainingMs: () => job.limits.timeoutMs - (performance.now() - state.started),
      onJobDeadline: () => state.guest?.deadlineReached(),
    },
    (m) => {
      if (m?.t === "abort") state.guest?.terminate(killed());
    },
  );
  port.on("message", (m: ToWorker) => calls.receive(m));
  return calls;
}

/** Take the job's guest and tell the host it started; a guest that cannot start is the job's (crashed) result. */
async function startGuest(
  job: WireJob,
  source: GuestSource,
  state: JobState,
  calls: CallChannel,
  post: (m: FromWorker) => void,
): Promise<IsolateGuest | undefined> {
  try {
    const guest = await source.take(job);
    state.guest = guest;
    // The job's clock starts when its guest is ready, as the host thread's does (on "started"):
    // a slow guest start must not eat the time a blocking call may wait.
    state.started = performance.now();
    post(
      guest instanceof PythonGuest ? { t: "started", interrupt: guest.interrupt, wake: calls.wake } : { t: "started", wake: calls.wake },
    );
    injectFault(job);
    return guest;
  } catch (e) {
    post({ t: "started", wake: calls.wake });
    post({
      t: "result",
      result: statusResult(crashed("GuestCrashed", `Could not start a guest: ${e instanceof Error ? e.message : String(e)}`)),
    });
    return undefined;
  }
}

async function runGuest(running: IsolateGuest, job: WireJob, calls: CallChannel, post: (m: FromWorker) => void): Promise<RunResult> {
  // Every line goes to the host thread, whether or not the caller streams it: if this thread has to be
  // terminated (a guest deaf to an abort), what the job printed is still in its result.
  const sink = new OutputSink(
    job.limits.maxOutputBytes,
    { stdout: true, stderr: true },
    (fd, lines) => post({ t: "out", fd, lines }),
    () => running.terminate(outputLimit(job.limits.maxOutputBytes)),
  );
  try {
    const outcome = await running.run(job, sink, calls);
    sink.finish();
    return buildResult({ ...outcome, stdout: sink.text[1], stderr: sink.text[2], backend: "isolate" });
  } finally {
    running.endRun(); // nothing of the guest runs after this point until its next run, if any
  }
}

/** Last message on the port, after every streamed line: the job's answer. */
async function forwardResult(port: MessagePort, post: (m: FromWorker) => void, result: RunResult): Promise<void> {
  const forwarded = new Promise<void>((resolve) => {
    port.once("close", () => resolve());
    setTimeout(resolve, FORWARD_WAIT_MS).unref();
  });
  post({ t: "result", result });
  // The guest is released only once the host has passed the result on (it closes the port then):
  // creating and disposing isolates here slows the host's main thread (measured: a paced job's result
  // reached the host 1.8 ms late while this thread was refilling).
  await forwarded;
}

/**
 * Fault injection for the wedged-worker tests: only when the host process was started with
 * ISOBOX_FAULT_INJECTION=1 (an environment variable of the embedding app; guests cannot set it),
 * a job whose code starts with the marker blocks this thread outside any isolate.
 */
function injectFault(job: WireJob): void {
  if (process.env.ISOBOX_FAULT_INJECTION !== "1" || !job.code.startsWith("//isobox:wedge-worker")) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}
