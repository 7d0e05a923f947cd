// isobox rows: the public API end to end (embedding process → sandbox host process → Piscina worker
// → a fresh isolate per job).
import { createSandbox, type RunResult, type Sandbox } from "../src/index.ts";
import { sequential, sleep, summarize, throughput, type Latency, type Row, type Throughput } from "./stats.ts";

export const TRIVIAL_JOB = { language: "javascript", code: "export default () => 1" } as const;

/** Every sandbox the bench opens, so the watchdog can close them whatever happens. */
export const openSandboxes = new Set<Sandbox>();

export async function open(options: Parameters<typeof createSandbox>[0]): Promise<Sandbox> {
  const sb = await createSandbox(options);
  openSandboxes.add(sb);
  return sb;
}

export async function shut(sb: Sandbox): Promise<void> {
  openSandboxes.delete(sb);
  await sb.close();
}

export interface IsoboxResult {
  cores: number;
  warmJavascript: number;
  createSandboxMs: number;
  firstJobMs: number;
  sequential: Latency;
  /** Same job with 5 ms of idle time between jobs: the warm pool is refilled when each job arrives. */
  paced: Latency;
  /** RunResult.usage.wallMs of the same jobs: time inside the worker's guest.run (compile → value). */
  guestWall: Latency;
  throughput: Throughput[];
  /** Same sequential loop with warm.javascript = 0: a cold isolate is made inside every job. */
  coldSequential?: Latency;
  /** Non-ok results seen in any of the loops: "status: error message" → count. */
  failures: Record<string, number>;
}

export async function benchIsobox(cores: number, log: (s: string) => void): Promise<IsoboxResult> {
  const warmJavascript = 8;
  let t = performance.now();
  const sb = await open({ concurrency: cores, warm: { javascript: warmJavascript } });
  try {
    const createSandboxMs = performance.now() - t;
    t = performance.now();
    await sb.run(TRIVIAL_JOB);
    const firstJobMs = performance.now() - t;
    log(`  createSandbox ${createSandboxMs.toFixed(1)} ms, first job ${firstJobMs.toFixed(1)} ms`);

    const failures: Record<string, number> = {};
    const check = countingCheck(failures);
    const { seq, guestWall, paced } = await warmLatency(sb, check, log);
    const tp = await throughputLevels(sb, cores, check, log);
    await shut(sb);
    const coldSequential = await coldLatency(cores, check, log);
    return {
      cores,
      warmJavascript,
      createSandboxMs,
      firstJobMs,
      sequential: seq,
      paced,
      guestWall,
      throughput: tp,
      coldSequential,
      failures,
    };
  } finally {
    if (openSandboxes.has(sb)) await shut(sb);
  }
}

type Check = (r: RunResult) => boolean;

/** A job is ok when it answered 1; every other result is counted in `failures` under its status and error. */
function countingCheck(failures: Record<string, number>): Check {
  return (r) => {
    const ok = r.status === "ok" && r.value === 1;
    if (!ok) {
      const key = `${r.status}: ${r.error ? `${r.error.name}: ${r.error.message}` : `value ${JSON.stringify(r.value)}`}`.slice(0, 200);
      failures[key] = (failures[key] ?? 0) + 1;
    }
    return ok;
  };
}

/** Back to back (with the guest's own wall time of the same jobs), then paced 5 ms apart. */
async function warmLatency(
  sb: Sandbox,
  check: Check,
  log: (s: string) => void,
): Promise<{ seq: Latency; guestWall: Latency; paced: Latency }> {
  const guestWalls: number[] = [];
  const op = async () => {
    const r = await sb.run(TRIVIAL_JOB);
    guestWalls.push(r.usage.wallMs);
    return check(r);
  };
  const seq = await sequential(op, { warmup: 200, n: 2000, maxMs: 20_000 });
  const guestWall = summarize(guestWalls.slice(-seq.n), 0, 0);
  log(`  sequential n=${seq.n} p50 ${seq.p50.toFixed(3)} ms (guest.run p50 ${guestWall.p50.toFixed(3)} ms)`);
  const paced = await sequential(async () => check(await sb.run(TRIVIAL_JOB)), { warmup: 20, n: 500, maxMs: 20_000, gapMs: 5 });
  log(`  paced (5 ms gaps) n=${paced.n} p50 ${paced.p50.toFixed(3)} ms`);
  return { seq, guestWall, paced };
}

async function throughputLevels(sb: Sandbox, cores: number, check: Check, log: (s: string) => void): Promise<Throughput[]> {
  const plain = async () => check(await sb.run(TRIVIAL_JOB));
  const levels = [...new Set([cores, 2 * cores, 8])];
  const tp: Throughput[] = [];
  for (const concurrency of levels) {
    await sleep(300); // a short pause between runs
    const r = await throughput(plain, { concurrency, maxJobs: 5000, maxMs: 5000 });
    log(`  throughput c=${concurrency}: ${r.opsPerSec.toFixed(0)} jobs/s (${r.jobs} jobs, ${r.errors} errors)`);
    tp.push(r);
  }
  return tp;
}

/** No warm guests: the isolate + context + prelude are made inside each job. */
async function coldLatency(cores: number, check: Check, log: (s: string) => void): Promise<Latency> {
  const cold = await open({ concurrency: cores, warm: { javascript: 0 } });
  let coldSequential: Latency;
  try {
    coldSequential = await sequential(async () => check(await cold.run(TRIVIAL_JOB)), { warmup: 50, n: 500, maxMs: 5000 });
  } finally {
    await shut(cold);
  }
  log(`  cold (warm.javascript=0) sequential p50 ${coldSequential.p50.toFixed(3)} ms`);
  return coldSequential;
}

export function isoboxRows(i: IsoboxResult | undefined): Row[] {
  if (!i) return [];
  const out: Row[] = [];
  out.push({
    row: "isobox trivial JS job, warm (fresh isolate/job)",
    lat: i.sequential,
    tp: i.throughput[0],
    note: `sandbox.run end to end, back to back; warm.javascript=${i.warmJavascript}, concurrency=${i.cores}`,
  });
  if (i.paced)
    out.push({
      row: "isobox trivial JS job, warm, paced (5 ms apart)",
      lat: i.paced,
      note: "same, with idle time between jobs: the pool is refilled when each job arrives",
    });
  for (const tp of i.throughput.slice(1))
    out.push({ row: `isobox trivial JS job, c=${tp.concurrency}`, tp, note: "same sandbox, more jobs in flight" });
  out.push({
    row: "  of which guest.run (RunResult.usage.wallMs)",
    lat: i.guestWall,
    note: "inside the worker: compile, instantiate, call, result",
  });
  if (i.coldSequential)
    out.push({
      row: "isobox trivial JS job, cold (warm.javascript=0)",
      lat: i.coldSequential,
      note: "isolate + context + prelude made inside each job",
    });
  return out;
}
