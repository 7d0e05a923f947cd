// Runs in: the sandbox host process, a session's own worker thread.
// The far side of a session's own thread: one guest kept from run to run (variables, files), until
// a run ends it (timeout, memory, abort, crash) or the host ends the session. Jobs arrive one at a
// time; the guest has this thread as its one owner and `release`/`dispose` as its disposal path.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { RunResult } from "../contract/result.ts";
import type { WireJob } from "../contract/admitted.ts";
import type { IsolateGuest } from "../isolate/guest.ts";
import { JsGuest } from "../isolate/js-guest.ts";
import { WarmPythonGuests } from "../python/warm.ts";
import { runJob, type GuestSource } from "./job-runner.ts";
import type { WorkerData } from "./worker.ts";

const data = workerData as WorkerData;
const python = new WarmPythonGuests(0, data.defaultPythonMemoryMb, data.pythonSnapshot, data.pythonSnapshotBytes);
let guest: IsolateGuest | null = null;

const sessionGuest: GuestSource = {
  async take(job: WireJob) {
    if (guest?.reusable) return guest;
    guest?.dispose();
    guest = job.language === "python" ? await python.take(job.limits.memoryMb) : JsGuest.create(job.limits.memoryMb);
    return guest;
  },
  // A run that ended in a guest error keeps its session; one that a limit or an abort stopped has
  // no guest left to keep (its isolate is disposed), so the next run starts a fresh one.
  release(g: IsolateGuest, result: RunResult) {
    if (g.reusable && (result.status === "ok" || result.status === "error")) return;
    g.dispose();
    if (guest === g) guest = null;
  },
};

// One run at a time, each released (kept or disposed) before the next takes the guest: the host
// sends the next run as soon as it has this one's result, which comes before the release. The host
// ends a session by terminating this thread (SessionThreads), so a run is the only message.
let queue: Promise<void> = Promise.resolve();
parentPort!.on("message", (task: { job: WireJob; port: MessagePort }) => {
  queue = queue
    .then(() => runJob(task.job, task.port, sessionGuest))
    .finally(() => parentPort!.postMessage({ t: "done", id: task.job.id }));
});
