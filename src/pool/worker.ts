// The far side of the Piscina boundary: one job at a time on this thread, each in its own guest.
import type { MessagePort } from "node:worker_threads";
import { workerData } from "node:worker_threads";
import { buildResult, statusResult } from "../api/result.ts";
import type { RunResult } from "../api/schemas.ts";
import type { FromWorker, ToWorker, WireJob } from "../host/protocol.ts";
import { JsGuest } from "../isolate/js-guest.ts";
import { OutputSink } from "../isolate/output.ts";
import { WarmJsGuests } from "../isolate/warm.ts";

export interface WorkerData {
  warmJavascript: number;
  defaultMemoryMb: number;
}
export interface Task {
  job: WireJob;
  port: MessagePort;
}

const data = workerData as WorkerData;
const warm = new WarmJsGuests(data.warmJavascript, data.defaultMemoryMb);
warm.refill();

export default async function runJob({ job, port }: Task): Promise<RunResult> {
  const post = (m: FromWorker) => port.postMessage(m);
  post({ t: "started" });
  injectFault(job);
  let guest: JsGuest;
  try {
    guest = warm.take(job.limits.memoryMb) ?? (await JsGuest.create(job.limits.memoryMb));
  } catch (e) {
    post({ t: "done" });
    return statusResult("crashed", "GuestCrashed", `Could not start a guest: ${e instanceof Error ? e.message : String(e)}`);
  }
  const sink = new OutputSink(job.limits.maxOutputBytes, job.stream, (fd, lines) => post({ t: "out", fd, lines }), () =>
    guest.terminate("output_limit", { name: "OutputLimitError", message: `Job wrote more than its ${job.limits.maxOutputBytes} byte output limit` }),
  );
  port.on("message", (m: ToWorker) => {
    if (m?.t === "abort") guest.terminate("killed", { name: "AbortError", message: "The job was aborted" });
  });
  try {
    const outcome = await guest.run(job, sink);
    sink.finish();
    return buildResult({ ...outcome, stdout: sink.text[1], stderr: sink.text[2], backend: "isolate" });
  } finally {
    // Last message on the port: the host waits for it so no streamed line trails the result.
    post({ t: "done" });
    // Disposal is off the job's critical path but still this task's duty: the guest is stopped
    // (its timers cleared, nothing runs) and is torn down right after the result is posted.
    guest.stop();
    setImmediate(() => guest.dispose());
  }
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

/** For the host's stats request and tests: how many guests this worker holds ready. */
export function warmCount(): number {
  return warm.size;
}
