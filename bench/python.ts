// Python rows: isobox Python jobs (Pyodide inside an isolate, restored from a memory snapshot)
// against the floors — plain loadPyodide in this Node process (NOT a sandbox) and a native
// `python3 -c` subprocess — and, where a Docker daemon with runsc exists, a hardened container.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { RunResult } from "../src/index.ts";
import { open, shut } from "./isobox.ts";
import { fmtMs, sequential, sleep, throughput, type Latency, type Row, type Throughput } from "./stats.ts";

const JOB = { language: "python", code: "1 + 1" } as const;
const ok = (r: RunResult) => r.status === "ok" && r.value === 2;

export interface PythonResult {
  createSandboxMs: number;
  firstJobMs: number;
  /** Jobs 500 ms apart: each finds a warm interpreter (the pool refills in between). */
  warm: Latency;
  /** Back to back: later jobs restore their interpreter inline once the pool is drained. */
  backToBack: Latency;
  turnover: Throughput;
  memoryPerWarmMb?: number;
  nodeLoadPyodideColdMs?: number;
  nodeRunPython?: Latency;
  nativePython?: Latency;
  docker: string;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function settledRss(pid: number): Promise<number> {
  let last = rssMb(pid);
  for (let i = 0; i < 20; i++) {
    await sleep(250);
    const now = rssMb(pid);
    if (Math.abs(now - last) < 2) return now;
    last = now;
  }
  return last;
}

export async function benchPython(cores: number, log: (s: string) => void): Promise<PythonResult> {
  const sandbox = await sandboxLatency(cores, log);
  const memoryPerWarmMb = await memoryPerWarmInterpreter(log);
  const { nodeLoadPyodideColdMs, nodeRunPython } = await plainPyodideFloor(log);
  const py = spawnSync("python3", ["-c", "1 + 1"]);
  const nativePython =
    py.status === 0 ? await sequential(async () => spawnSync("python3", ["-c", "1 + 1"]).status === 0, { warmup: 3, n: 30 }) : undefined;
  const info = spawnSync("docker", ["info", "--format", "{{json .Runtimes}}"], { encoding: "utf8" });
  const docker =
    info.status === 0 && info.stdout.includes("runsc")
      ? "measured in the container section below (peer: docker run --runtime=runsc python3 -c, hardened, cold)"
      : "skipped: no Docker daemon with runsc";
  return {
    ...sandbox,
    memoryPerWarmMb,
    nodeLoadPyodideColdMs,
    nodeRunPython,
    nativePython,
    docker,
  };
}

/** isobox Python jobs: the first, then warm (500 ms apart), back to back, and closed-loop turnover. */
async function sandboxLatency(
  cores: number,
  log: (s: string) => void,
): Promise<Pick<PythonResult, "createSandboxMs" | "firstJobMs" | "warm" | "backToBack" | "turnover">> {
  let t = performance.now();
  const sb = await open({ concurrency: cores, warm: { javascript: 0, python: 2 * cores } });
  const createSandboxMs = performance.now() - t;
  t = performance.now();
  if (!ok(await sb.run(JOB))) throw new Error("first Python job failed");
  const firstJobMs = performance.now() - t;
  log(`  createSandbox ${createSandboxMs.toFixed(0)} ms, first job ${firstJobMs.toFixed(0)} ms`);
  const warm = await sequential(async () => ok(await sb.run(JOB)), { warmup: 3, n: 40, gapMs: 500, maxMs: 30_000 });
  log(`  warm (500 ms apart) p50 ${warm.p50.toFixed(1)} ms`);
  const backToBack = await sequential(async () => ok(await sb.run(JOB)), { warmup: 0, n: 60, maxMs: 30_000 });
  const turnover = await throughput(async () => ok(await sb.run(JOB)), { concurrency: cores, maxJobs: 400, maxMs: 8000 });
  log(`  back to back p50 ${backToBack.p50.toFixed(1)} ms; turnover ${turnover.opsPerSec.toFixed(1)} fresh interpreters/s`);
  await shut(sb);
  return { createSandboxMs, firstJobMs, warm, backToBack, turnover };
}

/**
 * The marginal cost of a warm interpreter: host RSS with 10 warm interpreters against 2 (both after
 * a Python job, so each thread already holds its compiled interpreter module).
 */
async function memoryPerWarmInterpreter(log: (s: string) => void): Promise<number> {
  const rssWith = async (n: number) => {
    const sb2 = await open({ concurrency: 1, warm: { javascript: 0, python: n } });
    try {
      await sb2.run(JOB);
      return await settledRss(sb2.hostPid);
    } finally {
      await shut(sb2);
    }
  };
  const base = await rssWith(2);
  const full = await rssWith(10);
  const memoryPerWarmMb = (full - base) / 8;
  log(`  memory per warm interpreter ${memoryPerWarmMb.toFixed(1)} MB (marginal, 10 vs 2 warm)`);
  return memoryPerWarmMb;
}

/** Floor (unsafe): Pyodide straight in this Node process. */
async function plainPyodideFloor(log: (s: string) => void): Promise<Pick<PythonResult, "nodeLoadPyodideColdMs" | "nodeRunPython">> {
  let nodeLoadPyodideColdMs: number | undefined;
  let nodeRunPython: Latency | undefined;
  try {
    const { loadPyodide } = (await import("pyodide")) as { loadPyodide: () => Promise<{ runPython(code: string): unknown }> };
    const t = performance.now();
    const pyodide = await loadPyodide();
    nodeLoadPyodideColdMs = performance.now() - t;
    nodeRunPython = await sequential(async () => pyodide.runPython("1 + 1") === 2, { warmup: 20, n: 500 });
  } catch (e) {
    log(`  plain loadPyodide failed: ${(e as Error).message}`);
  }
  return { nodeLoadPyodideColdMs, nodeRunPython };
}

export function pythonRows(p: PythonResult | undefined): Row[] {
  if (!p) return [];
  const out: Row[] = [];
  out.push({
    row: "isobox trivial Python job, warm (500 ms apart)",
    lat: p.warm,
    note: `Pyodide in an isolate, restored from the snapshot; first job after createSandbox ${fmtMs(p.firstJobMs)} ms`,
  });
  out.push({
    row: "isobox trivial Python job, back to back",
    lat: p.backToBack,
    tp: p.turnover,
    note: "pool drained: most jobs restore their own interpreter (fresh-interpreter turnover)",
  });
  if (p.nodeRunPython)
    out.push({
      row: "floor: plain loadPyodide in Node, runPython (NOT secure)",
      lat: p.nodeRunPython,
      note: `one reused interpreter; cold loadPyodide ${fmtMs(p.nodeLoadPyodideColdMs)} ms`,
    });
  if (p.nativePython)
    out.push({ row: "floor: native python3 -c subprocess", lat: p.nativePython, note: "fresh CPython process per job (not a sandbox)" });
  out.push({ row: "peer: docker run --runtime=runsc python3", note: p.docker });
  return out;
}
