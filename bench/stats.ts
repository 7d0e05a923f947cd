// The one measuring harness every row uses: sequential latency (await each op) and closed-loop
// throughput (keep N ops in flight). Same code for isobox, the floors and the peer, so the
// numbers are comparable.

export interface Latency {
  n: number;
  errors: number;
  p50: number; // ms
  p95: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
  opsPerSec: number; // sequential: n / total time
}

export interface Throughput {
  concurrency: number;
  jobs: number;
  errors: number;
  seconds: number;
  opsPerSec: number;
}

/** One row of the bench's side-by-side table (report.ts); each section module makes its own. */
export interface Row {
  row: string;
  lat?: Latency;
  tp?: Throughput;
  note: string;
}

/** An op returns true when it succeeded (a wrong answer counts as an error, not a crash). */
export type Op = () => boolean | Promise<boolean>;

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(samples: number[], errors: number, totalMs: number): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    errors,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    mean: s.length ? sum / s.length : NaN,
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
    opsPerSec: totalMs > 0 ? (s.length / totalMs) * 1000 : NaN,
  };
}

async function attempt(op: Op): Promise<boolean> {
  try {
    return await op();
  } catch {
    return false;
  }
}

/** Run `warmup` ops unmeasured, then `n` ops one after another (stops early past `maxMs`). */
export async function sequential(op: Op, opts: { warmup: number; n: number; maxMs?: number; gapMs?: number }): Promise<Latency> {
  for (let i = 0; i < opts.warmup; i++) await attempt(op);
  const samples: number[] = [];
  let errors = 0;
  const start = performance.now();
  const until = start + (opts.maxMs ?? Infinity);
  for (let i = 0; i < opts.n; i++) {
    if (opts.gapMs) await sleep(opts.gapMs); // paced: idle time between jobs (not measured)
    const t = performance.now();
    if (!(await attempt(op))) errors++;
    const now = performance.now();
    samples.push(now - t);
    if (now > until) break;
  }
  return summarize(samples, errors, performance.now() - start);
}

/** Keep `concurrency` ops in flight until `maxJobs` have started or `maxMs` has passed. */
export async function throughput(op: Op, opts: { concurrency: number; maxJobs: number; maxMs: number }): Promise<Throughput> {
  let started = 0;
  let done = 0;
  let errors = 0;
  const start = performance.now();
  const until = start + opts.maxMs;
  const lane = async () => {
    while (started < opts.maxJobs && performance.now() < until) {
      started++;
      if (!(await attempt(op))) errors++;
      done++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  const seconds = (performance.now() - start) / 1000;
  return { concurrency: opts.concurrency, jobs: done, errors, seconds, opsPerSec: done / seconds };
}

/** Synchronous variant for in-thread floors (node:vm): no promise overhead in the number. */
export function sequentialSync(op: () => boolean, opts: { warmup: number; n: number; maxMs?: number }): Latency {
  for (let i = 0; i < opts.warmup; i++) op();
  const samples: number[] = [];
  let errors = 0;
  const start = performance.now();
  const until = start + (opts.maxMs ?? Infinity);
  for (let i = 0; i < opts.n; i++) {
    const t = performance.now();
    let ok = false;
    try {
      ok = op();
    } catch {
      ok = false;
    }
    const now = performance.now();
    if (!ok) errors++;
    samples.push(now - t);
    if (now > until) break;
  }
  return summarize(samples, errors, performance.now() - start);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function fmtMs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "—";
  return v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(1);
}

export function fmtRate(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "—";
  return v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1);
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
