// Memory per warm JavaScript guest: RSS of the sandbox host process (sandbox.hostPid) with
// warm.javascript = 0 and = 64 at concurrency 2, once RSS has settled.
//
// Two readings per configuration:
// - idle: right after createSandbox, waiting only (whatever the pool fills by itself)
// - driven: after running jobs in bursts until RSS stops growing — each job's worker tops its warm
//   pool up, so this is the state a busy sandbox lives in. The per-guest figure uses this one.
// (Measured so because an idle sandbox does not fill its pools by itself: Piscina's default
// `atomics: "sync"` parks idle worker threads in Atomics.wait, so the worker's background fill,
// scheduled with setImmediate, only runs once a task wakes the thread.)
import { readFileSync } from "node:fs";
import { open, shut, TRIVIAL_JOB } from "./isobox.ts";
import { sleep } from "./stats.ts";

export function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** Sample RSS every 250 ms until four samples in a row stay within 1 MB (or maxMs passes). */
async function stableRss(pid: number, maxMs: number): Promise<{ mb: number; waitedMs: number; stable: boolean }> {
  const start = performance.now();
  const window: number[] = [];
  for (;;) {
    await sleep(250);
    window.push(rssMb(pid));
    if (window.length > 4) window.shift();
    const waitedMs = performance.now() - start;
    if (window.length === 4 && Math.max(...window) - Math.min(...window) < 1) return { mb: window[3]!, waitedMs, stable: true };
    if (waitedMs > maxMs) return { mb: window[window.length - 1]!, waitedMs, stable: false };
  }
}

export interface HostRss {
  warm: number;
  idleMb: number;
  drivenMb: number;
  jobsRun: number;
}

export interface MemoryResult {
  concurrency: number;
  warmGuests: number;
  rssWarm0Mb: number;
  rssWarmNMb: number;
  mbPerWarmGuest: number;
  idleMbPerWarmGuest: number;
  readings: HostRss[];
  notes: string[];
}

async function hostRss(concurrency: number, warm: number, notes: string[]): Promise<HostRss> {
  const sb = await open({ concurrency, warm: { javascript: warm } });
  try {
    const idle = await stableRss(sb.hostPid, 4000);
    // Bursts of 40 jobs, 4 in flight, until RSS grows by less than 1 MB over a burst (max 12 bursts).
    let jobsRun = 0;
    let last = idle.mb;
    for (let burst = 0; burst < 12; burst++) {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = 0; i < 10; i++) await sb.run(TRIVIAL_JOB);
        }),
      );
      jobsRun += 40;
      await sleep(200);
      const now = rssMb(sb.hostPid);
      if (burst >= 2 && now - last < 1) break;
      last = now;
    }
    const driven = await stableRss(sb.hostPid, 4000);
    notes.push(
      `warm=${warm}: idle ${idle.mb.toFixed(1)} MB; after ${jobsRun} jobs ${driven.mb.toFixed(1)} MB${driven.stable ? "" : " (not settled within 1 MB)"}`,
    );
    return { warm, idleMb: idle.mb, drivenMb: driven.mb, jobsRun };
  } finally {
    await shut(sb);
  }
}

export async function benchMemory(log: (s: string) => void): Promise<MemoryResult> {
  const concurrency = 2;
  const warmGuests = 64;
  const notes: string[] = [];
  const readings: MemoryResult["readings"] = [];
  const base = await hostRss(concurrency, 0, notes);
  const full = await hostRss(concurrency, warmGuests, notes);
  readings.push(base, full);
  const mbPerWarmGuest = (full.drivenMb - base.drivenMb) / warmGuests;
  const idleMbPerWarmGuest = (full.idleMb - base.idleMb) / warmGuests;
  log(
    `  host RSS (after jobs) warm=0 ${base.drivenMb.toFixed(1)} MB, warm=${warmGuests} ${full.drivenMb.toFixed(1)} MB → ${mbPerWarmGuest.toFixed(2)} MB/guest (idle: ${idleMbPerWarmGuest.toFixed(2)})`,
  );

  return {
    concurrency,
    warmGuests,
    rssWarm0Mb: base.drivenMb,
    rssWarmNMb: full.drivenMb,
    mbPerWarmGuest,
    idleMbPerWarmGuest,
    readings,
    notes,
  };
}
