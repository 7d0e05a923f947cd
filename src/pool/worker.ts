// The far side of the Piscina boundary: one job at a time on this thread, each in its own guest.
import type { MessagePort } from "node:worker_threads";
import { workerData } from "node:worker_threads";
import { buildResult, statusResult } from "../api/result.ts";
import type { RunResult } from "../api/schemas.ts";
import type { FromWorker, ToWorker, WireJob } from "../host/protocol.ts";
import type { IsolateGuest } from "../isolate/guest.ts";
import { JsGuest } from "../isolate/js-guest.ts";
import { OutputSink } from "../isolate/output.ts";
import { WarmJsGuests } from "../isolate/warm.ts";
import { PythonGuest } from "../python/python-guest.ts";
import { WarmPythonGuests } from "../python/warm.ts";
import { CallChannel } from "./calls.ts";

export interface WorkerData {
  warmJavascript: number;
  defaultMemoryMb: number;
  warmPython: number;
  defaultPythonMemoryMb: number;
  pythonSnapshot?: string;
  pythonSnapshotBytes?: SharedArrayBuffer;
}
export type Task = { job: WireJob; port: MessagePort } | { warmup: true };

const data = workerData as WorkerData;
const warm = new WarmJsGuests(data.warmJavascript, data.defaultMemoryMb);
warm.refill();
const warmPython = new WarmPythonGuests(data.warmPython, data.defaultPythonMemoryMb, data.pythonSnapshot, data.pythonSnapshotBytes);

/** Guests made at the end of one task: enough to catch up after bursts, bounded so a task stays short. */
const REFILL_PER_TASK = 2;
/** Upper bound on waiting for the host to forward a result before disposing anyway. */
const FORWARD_WAIT_MS = 20;

/**
 * One job. The result goes back over the job's port as soon as it exists; the task itself then
 * disposes the guest and refills the warm pool, so Piscina counts this thread busy while it does
 * (and gives the next job to an idle thread) instead of the next job waiting behind the refill.
 */
export default async function runTask(task: Task): Promise<void> {
  if ("warmup" in task) {
    await warm.filled();
    return warmPython.fill();
  }
  return runJob(task.job, task.port);
}

async function runJob(job: WireJob, port: MessagePort): Promise<void> {
  const post = (m: FromWorker) => port.postMessage(m);
  let guest: IsolateGuest;
  const started = performance.now();
  const calls = new CallChannel(port, {
    maxCalls: job.limits.maxBindingCalls,
    callTimeoutMs: job.limits.bindingTimeoutMs,
    remainingMs: () => job.limits.timeoutMs - (performance.now() - started),
  }, (m) => {
    if (m?.t === "abort") guest.terminate("killed", { name: "AbortError", message: "The job was aborted" });
  });
  try {
    guest = job.language === "python" ? await warmPython.take(job.limits.memoryMb) : warm.take(job.limits.memoryMb) ?? JsGuest.create(job.limits.memoryMb);
    post(guest instanceof PythonGuest ? { t: "started", interrupt: guest.interrupt, wake: calls.wake } : { t: "started", wake: calls.wake });
    injectFault(job);
  } catch (e) {
    post({ t: "started", wake: calls.wake });
    post({ t: "result", result: statusResult("crashed", "GuestCrashed", `Could not start a guest: ${e instanceof Error ? e.message : String(e)}`) });
    warm.jobDone(REFILL_PER_TASK);
    return;
  }
  const sink = new OutputSink(job.limits.maxOutputBytes, job.stream, (fd, lines) => post({ t: "out", fd, lines }), () =>
    guest.terminate("output_limit", { name: "OutputLimitError", message: `Job wrote more than its ${job.limits.maxOutputBytes} byte output limit` }),
  );
  port.on("message", (m: ToWorker) => calls.receive(m));
  try {
    let result: RunResult;
    try {
      const outcome = await guest.run(job, sink, calls);
      sink.finish();
      result = buildResult({ ...outcome, stdout: sink.text[1], stderr: sink.text[2], backend: "isolate" });
    } finally {
      guest.stop(); // nothing of the guest runs after this point
    }
    // Last message on the port, after every streamed line: the job's answer.
    const forwarded = new Promise<void>((resolve) => {
      port.once("close", () => resolve());
      setTimeout(resolve, FORWARD_WAIT_MS).unref();
    });
    post({ t: "result", result });
    // Dispose and refill only once the host has passed the result on (it closes the port then):
    // creating and disposing isolates here slows the host's main thread (measured: a paced job's
    // result reached the host 1.8 ms late while this thread was refilling).
    await forwarded;
  } finally {
    guest.dispose(); // the guest's one disposal path, whatever happened above
  }
  warm.jobDone(job.language === "python" ? 0 : REFILL_PER_TASK);
  if (job.language === "python") await warmPython.fill(1);
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
