// Hop floors: what isobox's two boundaries cost with no isolate behind them.
// - process hop: fork() + IPC with serialization "advanced" (as the supervisor uses), ping-pong
// - thread hop: a Piscina pool of `cores` threads running a no-op task (as the host process uses)
import { fork } from "node:child_process";
import { Piscina } from "piscina";
import { sequential, throughput, type Latency, type Row, type Throughput } from "./stats.ts";

export interface HopResult {
  ipcRoundTrip: Latency;
  piscinaNoop: Latency;
  piscinaNoopThroughput: Throughput;
}

export async function benchHops(cores: number, log: (s: string) => void): Promise<HopResult> {
  const child = fork(new URL("./hops/echo-child.ts", import.meta.url).pathname, [], {
    serialization: "advanced",
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  let ipcRoundTrip: Latency;
  try {
    await new Promise((r) => child.once("message", r));
    // a message of the size of a trivial wire job / result
    const job = {
      t: "run",
      job: {
        id: crypto.randomUUID(),
        language: "javascript",
        code: "export default () => 1",
        filename: "main.js",
        env: {},
        limits: { timeoutMs: 30000, cpuTimeMs: 30000, memoryMb: 128, maxOutputBytes: 1048576, maxFsBytes: 67108864 },
        stream: { stdout: false, stderr: false },
      },
    };
    ipcRoundTrip = await sequential(
      () =>
        new Promise<boolean>((resolve) => {
          child.once("message", () => resolve(true));
          child.send(job);
        }),
      { warmup: 200, n: 2000, maxMs: 5000 },
    );
  } finally {
    child.kill("SIGKILL");
  }
  log(`  IPC round trip p50 ${ipcRoundTrip.p50.toFixed(3)} ms`);

  const pool = new Piscina({
    filename: new URL("./hops/noop-worker.ts", import.meta.url).href,
    minThreads: cores,
    maxThreads: cores,
    concurrentTasksPerWorker: 1,
  });
  let piscinaNoop: Latency;
  let piscinaNoopThroughput: Throughput;
  try {
    piscinaNoop = await sequential(async () => (await pool.run(null)) === 1, { warmup: 200, n: 2000, maxMs: 5000 });
    piscinaNoopThroughput = await throughput(async () => (await pool.run(null)) === 1, {
      concurrency: cores,
      maxJobs: 20_000,
      maxMs: 2000,
    });
  } finally {
    await pool.destroy();
  }
  log(`  Piscina no-op p50 ${piscinaNoop.p50.toFixed(3)} ms, ${piscinaNoopThroughput.opsPerSec.toFixed(0)} ops/s at c=${cores}`);
  return { ipcRoundTrip, piscinaNoop, piscinaNoopThroughput };
}

export function hopRows(h: HopResult | undefined): Row[] {
  if (!h) return [];
  return [
    {
      row: "hop floor: child-process IPC round trip",
      lat: h.ipcRoundTrip,
      note: "fork + serialization 'advanced', job-sized message, no work",
    },
    {
      row: "hop floor: Piscina no-op task",
      lat: h.piscinaNoop,
      tp: h.piscinaNoopThroughput,
      note: "worker-thread dispatch, no work",
    },
  ];
}
