// Container rows: an escalated trivial Python job with the warm pool (the isobox path), cold
// hardened `docker run` under runsc and runc (the peer a user would write by hand, with the same
// hardening), and a numpy+pandas job end to end. Skipped, with the reason, without a daemon.
import { spawnSync } from "node:child_process";
import type { RunResult } from "../src/index.ts";
import { defaultImage } from "../src/container/image.ts";
import { PIDS_LIMIT } from "../src/container/hardening.ts";
import { open, shut } from "./isobox.ts";
import { fmtMs, sequential, type Latency, type Row } from "./stats.ts";

export interface ContainerResult {
  skipped?: string;
  image?: string;
  imageMb?: number;
  /** Escalated `1 + 1`, jobs 2 s apart so the pool has refilled (the warm path). */
  warm?: Latency;
  numpyPandas?: Latency;
  dockerRunRunsc?: Latency;
  dockerRunRunc?: Latency;
  createSandboxMs?: number;
}

const TRIVIAL = "1 + 1";
const NUMPY_PANDAS = "import numpy as np, pandas as pd\ndf = pd.DataFrame({'x': np.arange(1000)})\nint(df['x'].sum())";

/** The same hardening as src/container/hardening.ts, as `docker run` flags. */
function dockerRunArgs(runtime: "runsc" | "runc", image: string): string[] {
  return [
    "run",
    "--rm",
    `--runtime=${runtime}`,
    "--network=none",
    "--read-only",
    "--tmpfs",
    "/tmp:rw,noexec,nosuid,nodev,size=64m",
    "--tmpfs",
    "/home/user:rw,noexec,nosuid,nodev,size=64m,uid=65534,gid=65534,mode=0700",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
    "--user=65534:65534",
    `--pids-limit=${PIDS_LIMIT[runtime]}`,
    "--memory=256m",
    "--memory-swap=256m",
    "--cpus=1",
    "--ulimit",
    "nofile=1024:1024",
    ...(runtime === "runsc" ? ["--ulimit", "nproc=64:64"] : []),
    "--log-driver=none",
    image,
    "python3",
    "-c",
    TRIVIAL,
  ];
}

/** Why the container rows cannot run here, or undefined. */
export function unavailable(image = defaultImage()): string | undefined {
  const info = spawnSync("docker", ["info", "--format", "{{json .Runtimes}}"], { encoding: "utf8" });
  if (info.status !== 0) return "skipped: no Docker daemon";
  if (!info.stdout.includes("runsc")) return "skipped: the Docker daemon has no runsc runtime";
  if (spawnSync("docker", ["image", "inspect", image], { stdio: "ignore" }).status !== 0)
    return `skipped: image ${image} not built (npm run build:image)`;
  return undefined;
}

export async function benchContainer(log: (s: string) => void): Promise<ContainerResult> {
  const image = defaultImage();
  const skipped = unavailable(image);
  if (skipped) {
    log(`  ${skipped}`);
    return { skipped };
  }
  const imageMb = Number(spawnSync("docker", ["image", "inspect", "-f", "{{.Size}}", image], { encoding: "utf8" }).stdout.trim()) / 1e6;
  let t = performance.now();
  const sb = await open({ concurrency: 1, warm: { javascript: 0, container: 2 }, container: { enabled: true } });
  const createSandboxMs = performance.now() - t;
  const ok = (value: number) => (r: RunResult) => r.status === "ok" && r.value === value && r.backend === "container";
  let warm: Latency, numpyPandas: Latency;
  try {
    await new Promise((r) => setTimeout(r, 4_000)); // let the pool fill before the clock starts
    const trivial = ok(2);
    warm = await sequential(async () => trivial(await sb.run({ language: "python", code: TRIVIAL, backend: "container" })), {
      warmup: 1,
      n: 15,
      gapMs: 2_000,
      maxMs: 60_000,
    });
    log(`  escalated trivial job, warm: p50 ${fmtMs(warm.p50)} ms, p95 ${fmtMs(warm.p95)} ms`);
    const np = ok(499500);
    numpyPandas = await sequential(async () => np(await sb.run({ language: "python", code: NUMPY_PANDAS })), {
      warmup: 1,
      n: 8,
      gapMs: 2_000,
      maxMs: 60_000,
    });
    log(`  numpy+pandas job (auto-routed), warm: p50 ${fmtMs(numpyPandas.p50)} ms`);
  } finally {
    await shut(sb);
  }
  const cold = (runtime: "runsc" | "runc") =>
    sequential(async () => spawnSync("docker", dockerRunArgs(runtime, image)).status === 0, { warmup: 1, n: 8, maxMs: 60_000 });
  const dockerRunRunsc = await cold("runsc");
  const dockerRunRunc = await cold("runc");
  log(`  cold docker run python3 -c: runsc p50 ${fmtMs(dockerRunRunsc.p50)} ms, runc p50 ${fmtMs(dockerRunRunc.p50)} ms`);
  return { image, imageMb, warm, numpyPandas, dockerRunRunsc, dockerRunRunc, createSandboxMs };
}

/** Rows for the bench table (same shape as report.ts's rows). */
export function containerRows(c: ContainerResult | undefined): Row[] {
  if (!c) return [];
  if (c.skipped) return [{ row: "isobox container backend / peer: docker run --runtime=runsc python3 -c", note: c.skipped }];
  return [
    {
      row: "isobox escalated trivial Python job, container pool warm",
      lat: c.warm,
      note: `backend: "container", runsc, jobs 2 s apart (pool refilled); ${c.image}, ${c.imageMb?.toFixed(0)} MB`,
    },
    {
      row: "isobox numpy+pandas job end to end (auto-routed), warm",
      lat: c.numpyPandas,
      note: "DataFrame of 1,000 rows summed; numpy/pandas preloaded by the warm runner",
    },
    {
      row: "peer: docker run --runtime=runsc python3 -c, hardened, cold",
      lat: c.dockerRunRunsc,
      note: "same hardening as the backend, fresh container per job (docker CLI)",
    },
    {
      row: "docker run --runtime=runc python3 -c, hardened, cold",
      lat: c.dockerRunRunc,
      note: "same, without gVisor (shares the host kernel)",
    },
  ];
}

export function containerTargets(
  c: ContainerResult | undefined,
): Array<{ name: string; goal: string; measured: string; verdict: "PASS" | "MISS" | "N/A" }> {
  const p50 = c?.warm?.p50;
  return [
    {
      name: "escalated (container) trivial job, warm p50",
      goal: "≤ 120 ms",
      measured: p50 === undefined ? (c?.skipped ?? "not measured") : `${fmtMs(p50)} ms (p95 ${fmtMs(c!.warm!.p95)} ms)`,
      verdict: p50 === undefined ? "N/A" : p50 <= 120 ? "PASS" : "MISS",
    },
  ];
}
