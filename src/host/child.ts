// Runs in: the sandbox host process, main thread. Spawned by the supervisor with the flags
// isolated-vm needs, it owns the pool of worker threads and nothing else. If a guest ever takes V8
// down, only this process dies.
import { PendingAnswers } from "../calls/relay.ts";
import type { WireJob } from "../contract/admitted.ts";
import type { CapabilityCall } from "../contract/calls.ts";
import { HostInitSchema } from "../pool/init.ts";
import { ToHostSchema, type FromHost } from "./protocol.ts";
import { GuestPool } from "../pool/pool.ts";

const init = HostInitSchema.parse(JSON.parse(process.argv[2] ?? "{}"));
const pool = new GuestPool(init, () => send({ t: "recycle" }));

interface Running {
  abort: AbortController;
  /** The job's calls waiting for the embedding process's answer, by call id. */
  answers: PendingAnswers;
}
const running = new Map<string, Running>();

function send(m: FromHost): void {
  if (process.connected) process.send!(m);
}

/**
 * One job, from the embedding process to the pool and back. Its calls are capped and closed by the
 * host thread's CallRelay (src/pool/job-port.ts); this hop carries them to the embedding process and
 * routes each answer back by call id, and drops those that come after the job ended.
 */
function run(job: WireJob): void {
  const entry: Running = { abort: new AbortController(), answers: new PendingAnswers() };
  running.set(job.id, entry);
  const onOut = (fd: 1 | 2, lines: string[]) => send({ t: "out", id: job.id, fd, lines });
  const onCall = (call: CapabilityCall) => {
    const answer = entry.answers.expect(call.callId);
    send({ t: "call", id: job.id, call });
    return answer;
  };
  void pool.run(job, onOut, entry.abort.signal, onCall).then((result) => {
    running.delete(job.id);
    entry.answers.close();
    send({ t: "result", id: job.id, result });
  });
}

process.on("message", (message: unknown) => {
  // Checked like every message that crosses a process boundary; the embedding process is trusted,
  // but a malformed message must fail here, not deep in a worker.
  const parsed = ToHostSchema.safeParse(message);
  if (!parsed.success) return;
  const m = parsed.data;
  if (m.t === "run") run(m.job);
  else if (m.t === "abort") running.get(m.id)?.abort.abort();
  else if (m.t === "endSession") pool.endSession(m.session);
  else running.get(m.id)?.answers.answer(m.callId, m.answer);
});

// Never outlive the embedding app: no parent, no host process.
process.on("disconnect", () => process.exit(0));

// Ready once every worker thread is up with its warm guests, so the first job is a warm one.
pool.warmUp().then(
  () => send({ t: "ready", pid: process.pid }),
  () => send({ t: "ready", pid: process.pid }),
);
