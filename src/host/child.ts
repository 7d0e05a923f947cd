// Runs in: the sandbox host process. Spawned by the supervisor with the flags isolated-vm needs, it owns the
// pool of worker threads and nothing else. If a guest ever takes V8 down, only this process dies.
import type { CallAnswer, CapabilityCall } from "../contract/calls.ts";
import { HostInitSchema } from "../pool/init.ts";
import { ToHostSchema, type FromHost } from "./protocol.ts";
import { GuestPool } from "../pool/pool.ts";

const init = HostInitSchema.parse(JSON.parse(process.argv[2] ?? "{}"));
const pool = new GuestPool(init, () => send({ t: "recycle" }));
const running = new Map<string, AbortController>();
/** Capability calls waiting for the embedding process's answer, by job id and call id. */
const answers = new Map<string, Map<number, (a: CallAnswer) => void>>();

function send(m: FromHost): void {
  if (process.connected) process.send!(m);
}

process.on("message", (message: unknown) => {
  // Checked like every message that crosses a process boundary; the embedding process is trusted,
  // but a malformed message must fail here, not deep in a worker.
  const parsed = ToHostSchema.safeParse(message);
  if (!parsed.success) return;
  const raw = parsed.data;
  if (raw.t === "run") {
    const job = raw.job;
    const abort = new AbortController();
    running.set(job.id, abort);
    const onOut = (fd: 1 | 2, lines: string[]) => send({ t: "out", id: job.id, fd, lines });
    const waiting = new Map<number, (a: CallAnswer) => void>();
    answers.set(job.id, waiting);
    const onCall = (call: CapabilityCall, answer: (a: CallAnswer) => void) => {
      waiting.set(call.callId, answer);
      send({ t: "call", id: job.id, call });
    };
    void pool.run(job, onOut, abort.signal, onCall).then((result) => {
      running.delete(job.id);
      answers.delete(job.id);
      send({ t: "result", id: job.id, result });
    });
  } else if (raw.t === "abort") {
    running.get(raw.id)?.abort();
  } else if (raw.t === "endSession") {
    pool.endSession(raw.session);
  } else {
    const waiting = answers.get(raw.id);
    const reply = waiting?.get(raw.callId);
    if (!reply) return;
    waiting!.delete(raw.callId);
    reply(raw.answer);
  }
});

// Never outlive the embedding app: no parent, no host process.
process.on("disconnect", () => process.exit(0));

// Ready once every worker thread is up with its warm guests, so the first job is a warm one.
pool.warmUp().then(
  () => send({ t: "ready", pid: process.pid }),
  () => send({ t: "ready", pid: process.pid }),
);
