// Turns the measurements into one side-by-side table, the target verdicts, and the files in
// bench/results/ (latest.json, latest.md).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { capabilityRows, type CapabilitiesResult } from "./capabilities.ts";
import { containerRows, containerTargets, type ContainerResult } from "./container.ts";
import { floorRows, type FloorResult } from "./floors.ts";
import { hopRows, type HopResult } from "./hops.ts";
import type { InternalsResult } from "./internals.ts";
import { isoboxRows, type IsoboxResult } from "./isobox.ts";
import type { MemoryResult } from "./memory.ts";
import { secureExecRows, type PeerResult } from "./peers.ts";
import { pythonRows, type PythonResult } from "./python.ts";
import { fmtMs, fmtRate, type Row, type Throughput } from "./stats.ts";

export interface Results {
  env: Record<string, string | number>;
  isobox?: IsoboxResult;
  floors?: FloorResult;
  hops?: HopResult;
  internals?: InternalsResult;
  secureExec?: PeerResult;
  memory?: MemoryResult;
  python?: PythonResult;
  container?: ContainerResult;
  capabilities?: CapabilitiesResult;
  failures: Record<string, string>;
  targets?: Target[];
  totalSeconds?: number;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  verdict: "PASS" | "MISS" | "N/A";
}

const root = fileURLToPath(new URL("../", import.meta.url));

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(`${root}node_modules/${pkg}/package.json`, "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "?";
  }
}

export function environment(cores: number): Record<string, string | number> {
  let cpu = os.cpus()[0]?.model ?? "?";
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpu;
  } catch {
    /* not Linux */
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu,
    cores,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemGb: Math.round(os.totalmem() / 2 ** 30),
    isolatedVm: version("isolated-vm"),
    piscina: version("piscina"),
    // other work on this machine skews every row: the 1-minute load average when the bench started
    loadAvg1mAtStart: Number(os.loadavg()[0]!.toFixed(2)),
    gitCommit: git(["rev-parse", "--short", "HEAD"]),
    // src/ and runtimes/ changes not yet committed when the bench ran (the numbers include them)
    gitUncommitted: git(["status", "--porcelain", "--", "src", "runtimes"]).split("\n").filter(Boolean).length,
  };
}

/**
 * The table's rows, section by section. Each section's module makes its own, except the internals':
 * bench/internals.ts imports src/ internals that may change shape, so only that section's process
 * (section-child.ts) loads it, never this one.
 */
function rows(r: Results): Row[] {
  return [
    ...isoboxRows(r.isobox),
    ...internalsRows(r.internals),
    ...secureExecRows(r.secureExec),
    ...floorRows(r.floors),
    ...pythonRows(r.python),
    ...containerRows(r.container),
    ...capabilityRows(r.capabilities),
    ...hopRows(r.hops),
  ];
}

function internalsRows(n: InternalsResult | undefined): Row[] {
  if (!n) return [];
  const out: Row[] = [];
  if (n.poolSequential)
    out.push({
      row: "isobox GuestPool in-process (no process hop)",
      lat: n.poolSequential,
      tp: n.poolThroughput,
      note: "Piscina + worker + warm guests, no sandbox host process",
    });
  if (n.guestCreate)
    out.push({
      row: "isobox JsGuest.create, in-process",
      lat: n.guestCreate,
      note: "isolate + context + prelude: the work the warm pool moves off the job path",
    });
  if (n.guestRun)
    out.push({
      row: "isobox JsGuest run+dispose (prewarmed), in-process",
      lat: n.guestRun,
      note: "what a warm job costs in its worker thread",
    });
  return out;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : undefined;
}

export function evaluateTargets(r: Results): Target[] {
  return [
    ...latencyTargets(r.isobox),
    secureExecTarget(r.secureExec, r.isobox),
    throughputTarget(r.isobox, r.env.cores),
    ...pythonTargets(r.python),
    ...containerTargets(r.container),
    memoryTarget(r.memory),
  ];
}

function latencyTargets(i: IsoboxResult | undefined): Target[] {
  const p50 = i?.sequential.p50;
  const paced = i?.paced?.p50;
  return [
    {
      name: "warm p50 latency, back to back",
      goal: "≤ 1 ms",
      measured: p50 === undefined ? "not measured" : `${fmtMs(p50)} ms`,
      verdict: p50 === undefined ? "N/A" : p50 <= 1 ? "PASS" : "MISS",
    },
    {
      name: "warm p50 latency, paced (pool refilled)",
      goal: "≤ 1 ms",
      measured: paced === undefined ? "not measured" : `${fmtMs(paced)} ms`,
      verdict: paced === undefined ? "N/A" : paced <= 1 ? "PASS" : "MISS",
    },
  ];
}

/** Throughput is compared at the peer's concurrency: the same number of jobs in flight on each side. */
function secureExecTarget(s: PeerResult | undefined, i: IsoboxResult | undefined): Target {
  const latRatio = ratio(s?.sequential?.p50, i?.sequential.p50);
  const seTp = s?.throughput[0];
  const isoTp = i?.throughput.find((x) => x.concurrency === seTp?.concurrency) ?? i?.throughput[0];
  const tpRatio = ratio(isoTp?.opsPerSec, seTp?.opsPerSec);
  return {
    name: "vs secure-exec 0.2.1",
    goal: "≥ 30× faster (p50 latency and throughput)",
    measured:
      latRatio === undefined || tpRatio === undefined
        ? `not measured${s?.error ? ` (secure-exec: ${s.error.split("\n")[0]})` : ""}`
        : `p50 ${latRatio.toFixed(1)}× faster; throughput ${tpRatio.toFixed(1)}× (c=${seTp!.concurrency})`,
    verdict: latRatio === undefined || tpRatio === undefined ? "N/A" : latRatio >= 30 && tpRatio >= 30 ? "PASS" : "MISS",
  };
}

function throughputTarget(i: IsoboxResult | undefined, cores: string | number | undefined): Target {
  const best = i?.throughput.reduce<Throughput | undefined>((a, b) => (a && a.opsPerSec >= b.opsPerSec ? a : b), undefined);
  const atCores = i?.throughput[0];
  return {
    name: `fresh-isolate throughput on ${cores} cores`,
    goal: "≥ 1,000 jobs/s",
    measured: best
      ? `${fmtRate(atCores!.opsPerSec)} jobs/s at c=${atCores!.concurrency}; best ${fmtRate(best.opsPerSec)} at c=${best.concurrency}`
      : "not measured",
    verdict: best ? (best.opsPerSec >= 1000 ? "PASS" : "MISS") : "N/A",
  };
}

function pythonTargets(py: PythonResult | undefined): Target[] {
  if (!py) return [];
  const msPerInterpreter = (1000 * py.turnover.concurrency) / py.turnover.opsPerSec;
  return [
    {
      name: "Python warm p50",
      goal: "≤ 10 ms",
      measured: `${fmtMs(py.warm.p50)} ms`,
      verdict: py.warm.p50 <= 10 ? "PASS" : "MISS",
    },
    {
      name: "Python first job after createSandbox",
      goal: "≤ 500 ms",
      measured: `${fmtMs(py.firstJobMs)} ms`,
      verdict: py.firstJobMs <= 500 ? "PASS" : "MISS",
    },
    {
      name: "memory per warm interpreter",
      goal: "≤ 64 MB",
      measured: py.memoryPerWarmMb === undefined ? "not measured" : `${py.memoryPerWarmMb.toFixed(1)} MB`,
      verdict: py.memoryPerWarmMb === undefined ? "N/A" : py.memoryPerWarmMb <= 64 ? "PASS" : "MISS",
    },
    {
      name: "fresh interpreter (stretch)",
      goal: "≤ 50 ms",
      measured: `${fmtRate(py.turnover.opsPerSec)} interpreters/s at c=${py.turnover.concurrency} (${fmtMs(msPerInterpreter)} ms each)`,
      verdict: msPerInterpreter <= 50 ? "PASS" : "MISS",
    },
  ];
}

function memoryTarget(m: MemoryResult | undefined): Target {
  return {
    name: "memory per warm guest",
    goal: "≤ 3 MB",
    measured: m
      ? `${m.mbPerWarmGuest.toFixed(2)} MB (host RSS Δ ${(m.rssWarmNMb - m.rssWarm0Mb).toFixed(1)} MB / ${m.warmGuests})`
      : "not measured",
    verdict: m ? (m.mbPerWarmGuest <= 3 ? "PASS" : "MISS") : "N/A",
  };
}

/** A Markdown table, padded so it also reads as a plain-text table on stdout. */
function table(header: string[], body: string[][]): string {
  const all = [header, ...body];
  const width = header.map((_, c) => Math.max(3, ...all.map((r) => [...(r[c] ?? "")].length)));
  const pad = (cells: string[]) => `| ${cells.map((x, c) => x + " ".repeat(width[c]! - [...x].length)).join(" | ")} |`;
  return [pad(header), `| ${width.map((w) => "-".repeat(w)).join(" | ")} |`, ...body.map(pad)].join("\n");
}

export function markdown(r: Results): string {
  const parts = [
    ...heading(r.env),
    latencyTable(r),
    memorySection(r),
    r.targets && targetsSection(r.targets),
    r.secureExec && peerSection(r.secureExec),
    r.isobox && isoboxSection(r.isobox),
    failuresSection(r.failures),
    r.totalSeconds !== undefined ? `Bench wall time: ${r.totalSeconds.toFixed(0)} s.` : undefined,
  ];
  return parts.filter((x) => x !== undefined).join("\n\n") + "\n";
}

/** The title, the machine and build the numbers belong to, and what one job is. */
function heading(e: Results["env"]): string[] {
  const parts = [
    `# isobox benchmark — ${e.date}`,
    `Node ${e.node} · ${e.cpu} · ${e.cores} cores · ${e.platform} · ${e.totalMemGb} GiB · isolated-vm ${e.isolatedVm} · piscina ${e.piscina} · isobox at ${e.gitCommit}${e.gitUncommitted ? ` + ${e.gitUncommitted} uncommitted files in src/, runtimes/` : ""}`,
  ];
  if (Number(e.loadAvg1mAtStart) > 1)
    parts.push(
      `Note: 1-minute load average ${e.loadAvg1mAtStart} when the bench started — if other processes were still busy, they shared the ${e.cores} cores and every row is pessimistic.`,
    );
  parts.push(
    "Job: `export default () => 1` (JavaScript). Latency = sequential (await each); ops/s seq = 1000/mean of that loop; throughput = closed loop with c jobs in flight.",
  );
  return parts;
}

function latencyTable(r: Results): string {
  return table(
    ["row", "p50 ms", "p95 ms", "p99 ms", "seq ops/s", "throughput jobs/s", "notes"],
    rows(r).map((x) => [
      x.row,
      fmtMs(x.lat?.p50),
      fmtMs(x.lat?.p95),
      fmtMs(x.lat?.p99),
      fmtRate(x.lat?.opsPerSec),
      x.tp ? `${fmtRate(x.tp.opsPerSec)} (c=${x.tp.concurrency}${x.tp.errors ? `, ${x.tp.errors} errors` : ""})` : "—",
      `${x.note}${x.lat?.errors ? ` (${x.lat.errors} errors)` : ""}`,
    ]),
  );
}

function memorySection(r: Results): string | undefined {
  const m = r.memory;
  const f = r.floors;
  const n = r.internals;
  const mem: string[][] = [];
  if (m) {
    for (const x of m.readings) {
      mem.push([
        `host RSS, concurrency ${m.concurrency}, warm.javascript=${x.warm}: idle / after ${x.jobsRun} jobs`,
        `${x.idleMb.toFixed(1)} / ${x.drivenMb.toFixed(1)} MB`,
      ]);
    }
    mem.push([`RSS per warm guest (Δ after jobs / ${m.warmGuests})`, `${m.mbPerWarmGuest.toFixed(2)} MB`]);
    mem.push([`RSS per warm guest, idle (Δ idle / ${m.warmGuests})`, `${m.idleMbPerWarmGuest.toFixed(2)} MB`]);
  }
  if (f)
    mem.push([
      "bare ivm isolate heap (context + small script): total / used",
      `${f.ivmHeap.totalHeapSizeMb.toFixed(2)} / ${f.ivmHeap.usedHeapSizeMb.toFixed(2)} MB`,
    ]);
  if (n?.guestHeap)
    mem.push([
      "isobox warm JsGuest heap (context + prelude): total / used",
      `${n.guestHeap.totalHeapSizeMb.toFixed(2)} / ${n.guestHeap.usedHeapSizeMb.toFixed(2)} MB`,
    ]);
  if (!mem.length) return undefined;
  return "## Memory\n\n" + table(["what", "value"], mem) + (m ? `\n\n${m.notes.map((x) => `- ${x}`).join("\n")}` : "");
}

function targetsSection(targets: Target[]): string {
  return (
    "## Targets\n\n" +
    table(
      ["target", "goal", "measured", "verdict"],
      targets.map((t) => [t.name, t.goal, t.measured, `**${t.verdict}**`]),
    )
  );
}

/** How the peer got here and what it printed: its numbers mean little if it ran degraded. */
function peerSection(s: PeerResult): string {
  const inst = s.install.alreadyPresent
    ? "already installed in bench/.peers/"
    : `installed by the bench in ${((s.install.ms ?? 0) / 1000).toFixed(0)} s: \`${s.install.command}\``;
  const notes = [`- secure-exec ${s.version}: ${inst}; install scripts: ${s.install.installScripts}.`];
  const skipped = s.install.warnings.map((w) => /install-scripts\s+(\S+@\S+)\s+\(/.exec(w)?.[1]).filter(Boolean);
  if (skipped.length)
    notes.push(
      `- npm left these dependencies' install scripts unrun (blocked by default): ${skipped.join(", ")}; secure-exec ran without them.`,
    );
  if (s.firstRunMs !== undefined) notes.push(`- secure-exec first run (runtime start): ${fmtMs(s.firstRunMs)} ms.`);
  if (s.error) notes.push(`- secure-exec error: \`${s.error.replace(/\n/g, " ⏎ ")}\``);
  return "## Peer\n\n" + notes.join("\n");
}

function isoboxSection(i: IsoboxResult): string {
  const lines = [`- createSandbox: ${fmtMs(i.createSandboxMs)} ms; first job after it: ${fmtMs(i.firstJobMs)} ms.`];
  for (const [k, v] of Object.entries(i.failures)) lines.push(`- non-ok results: ${v} × \`${k}\``);
  return `## isobox\n\n${lines.join("\n")}`;
}

function failuresSection(failures: Results["failures"]): string | undefined {
  const fails = Object.entries(failures);
  if (!fails.length) return undefined;
  return "## Sections that failed\n\n" + fails.map(([k, v]) => `- ${k}: \`${v.replace(/\n/g, " ⏎ ")}\``).join("\n");
}

export function writeResults(r: Results): { json: string; md: string } {
  const dir = `${root}bench/results/`;
  mkdirSync(dir, { recursive: true });
  const json = `${dir}latest.json`;
  const md = `${dir}latest.md`;
  writeFileSync(json, JSON.stringify(r, null, 2) + "\n");
  writeFileSync(md, markdown(r));
  return { json, md };
}
