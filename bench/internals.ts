// isobox's own layers measured in this process, to split the end-to-end latency:
// - GuestPool: the Piscina pool + worker + warm guests, without the sandbox host process hop
// - JsGuest: one guest in this thread — creation (what the warm pool moves off the job path) and
//   run+dispose of a pre-made guest (what a warm job costs in its worker thread)
// These import internal modules (src/pool, src/isolate), which may change shape: this section is
// allowed to fail on its own without touching the others.
import { JsGuest } from "../src/isolate/js-guest.ts";
import { OutputSink } from "../src/isolate/output.ts";
import { GuestPool } from "../src/pool/pool.ts";
import type { WireJob } from "../src/contract/admitted.ts";
import { heap, type HeapStats } from "./floors.ts";
import { sequential, sleep, summarize, throughput, type Latency, type Throughput } from "./stats.ts";

/** Each half may be missing if its part of the section process died. */
export interface InternalsResult {
  poolSequential?: Latency;
  poolThroughput?: Throughput;
  guestCreate?: Latency;
  guestRun?: Latency;
  guestHeap?: HeapStats;
}

let seq = 0;
const wireJob = (): WireJob => ({
  id: `bench-${++seq}`,
  language: "javascript",
  code: "export default () => 1",
  filename: "main.js",
  env: {},
  limits: {
    timeoutMs: 30_000,
    cpuTimeMs: 30_000,
    memoryMb: 128,
    maxOutputBytes: 1 << 20,
    maxFsBytes: 64 << 20,
    maxBindingCalls: 1000,
    bindingTimeoutMs: 30_000,
  },
  stream: { stdout: false, stderr: false },
  files: [],
  capabilities: { bindings: [], mcp: {}, fetch: false },
  backend: "isolate",
});

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

export async function benchGuest(
  log: (s: string) => void,
): Promise<Required<Pick<InternalsResult, "guestCreate" | "guestRun" | "guestHeap">>> {
  // JsGuest in this thread, in batches of 50 live guests; batch 0 is the unmeasured warm-up.
  // (`await` works whether create is synchronous or returns a promise.)
  const createSamples: number[] = [];
  const runSamples: number[] = [];
  let errors = 0;
  let guestHeap: HeapStats | undefined;
  const started = performance.now();
  for (let batch = 0; batch < 10 && performance.now() - started < 15_000; batch++) {
    const guests: JsGuest[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      guests.push(await JsGuest.create(128));
      if (batch > 0) createSamples.push(performance.now() - t);
    }
    guestHeap ??= heap(guests[0]!.isolate);
    for (const g of guests) {
      const t = performance.now();
      const sink = new OutputSink(
        1 << 20,
        { stdout: false, stderr: false },
        () => {},
        () => {},
      );
      try {
        const out = await g.run(wireJob(), sink);
        if (out.status !== "ok" || out.value !== 1) errors++;
      } finally {
        g.dispose();
      }
      if (batch > 0) runSamples.push(performance.now() - t);
    }
  }
  // ops/s = 1000 / mean: back-to-back ops in one thread
  const guestCreate = summarize(createSamples, 0, sum(createSamples));
  const guestRun = summarize(runSamples, errors, sum(runSamples));
  log(`  JsGuest.create p50 ${guestCreate.p50.toFixed(3)} ms, JsGuest run+dispose p50 ${guestRun.p50.toFixed(3)} ms`);
  return { guestCreate, guestRun, guestHeap: guestHeap! };
}

/**
 * The pool is left open: terminating worker threads that hold isolates can abort the process in
 * isolated-vm (GetCurrent assertion), so section-child.ts reports and then SIGKILLs itself instead.
 */
export async function benchPool(
  cores: number,
  log: (s: string) => void,
): Promise<Required<Pick<InternalsResult, "poolSequential" | "poolThroughput">>> {
  // GuestPool in this process: same threads and warm setting as the end-to-end row
  const pool = new GuestPool({
    threads: cores,
    warmJavascript: 8,
    defaultMemoryMb: 128,
    warmPython: 0,
    defaultPythonMemoryMb: 256,
  });
  const never = new AbortController().signal;
  const op = async () => {
    const r = await pool.run(
      wireJob(),
      () => {},
      never,
      async () => ({ ok: false, name: "BindingError", message: "no capabilities in this bench" }),
    );
    return r.status === "ok" && r.value === 1;
  };
  const poolSequential = await sequential(op, { warmup: 200, n: 2000, maxMs: 10_000 });
  await sleep(300);
  const poolThroughput = await throughput(op, { concurrency: cores, maxJobs: 5000, maxMs: 3000 });
  log(`  GuestPool in-process p50 ${poolSequential.p50.toFixed(3)} ms, ${poolThroughput.opsPerSec.toFixed(0)} jobs/s at c=${cores}`);
  return { poolSequential, poolThroughput };
}
