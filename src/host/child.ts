// The sandbox host process: spawned by the supervisor with the flags isolated-vm needs, it owns the
// pool of worker threads and nothing else. If a guest ever takes V8 down, only this process dies.
import { HostInitSchema, WireJobSchema, type FromHost, type ToHost } from "./protocol.ts";
import { GuestPool } from "../pool/pool.ts";

const init = HostInitSchema.parse(JSON.parse(process.argv[2] ?? "{}"));
const pool = new GuestPool(init, () => send({ t: "recycle" }));
const running = new Map<string, AbortController>();

function send(m: FromHost): void {
  if (process.connected) process.send!(m);
}

process.on("message", (raw: ToHost) => {
  if (raw?.t === "run") {
    const job = WireJobSchema.parse(raw.job);
    const abort = new AbortController();
    running.set(job.id, abort);
    const onOut = (fd: 1 | 2, lines: string[]) => send({ t: "out", id: job.id, fd, lines });
    void pool.run(job, onOut, abort.signal).then((result) => {
      running.delete(job.id);
      send({ t: "result", id: job.id, result });
    });
  } else if (raw?.t === "abort") {
    running.get(raw.id)?.abort();
  }
});

// Never outlive the embedding app: no parent, no host process.
process.on("disconnect", () => process.exit(0));

// Ready once every worker thread is up with its warm guests, so the first job is a warm one.
pool.warmUp().then(
  () => send({ t: "ready", pid: process.pid }),
  () => send({ t: "ready", pid: process.pid }),
);
