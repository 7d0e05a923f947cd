// Runs in: the sandbox host process, a pooled worker thread (Piscina's).
// The far side of the Piscina boundary: one job at a time on this thread, each in a fresh guest
// taken from this thread's warm pool and disposed after it.
import type { MessagePort } from "node:worker_threads";
import { workerData } from "node:worker_threads";
import type { WireJob } from "../contract/admitted.ts";
import { JsGuest } from "../isolate/js-guest.ts";
import { WarmJsGuests } from "../isolate/warm.ts";
import { WarmPythonGuests } from "../python/warm.ts";
import { runJob, type GuestSource } from "./job-runner.ts";

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

/** Fresh guests: never reused, disposed after their one job (their one disposal path). */
const freshGuests: GuestSource = {
  take: async (job) =>
    job.language === "python"
      ? warmPython.take(job.limits.memoryMb)
      : (warm.take(job.limits.memoryMb) ?? JsGuest.create(job.limits.memoryMb)),
  release: (guest) => guest.dispose(),
};

/**
 * One job. The task itself then disposes the guest and refills the warm pool, so Piscina counts
 * this thread busy while it does (and gives the next job to an idle thread) instead of the next
 * job waiting behind the refill.
 */
export default async function runTask(task: Task): Promise<void> {
  if ("warmup" in task) {
    await warm.filled();
    return warmPython.fill();
  }
  await runJob(task.job, task.port, freshGuests);
  const python = task.job.language === "python";
  warm.jobDone(python ? 0 : REFILL_PER_TASK);
  if (python) await warmPython.fill(1);
}
