// Capability-call rows: the round trip of one binding call, guest → host handler → guest, timed
// inside the guest over a loop of calls (so job start and result are not in it). JS awaits a
// promise; Python blocks its thread; a container job's call crosses the container's stdio. The
// handler does nothing, so the rows are the cost of the channel, isobox's own.
import { z } from "zod";
import type { RunResult, Sandbox } from "../src/index.ts";
import { open, shut } from "./isobox.ts";
import { fmtMs, summarize, type Latency, type Row } from "./stats.ts";

export interface CapabilitiesResult {
  /** Per-call ms, one sample per job (mean over CALLS calls in that job). */
  js?: Latency;
  python?: Latency;
  container?: Latency;
  containerSkipped?: string;
}

const CALLS = 200;
const JOBS = 8;
const bindings = { echo: { input: z.object({ n: z.number() }), handler: (a: unknown) => a } };

const JS = `import * as host from "isobox:host";
export default async () => {
  await host.echo({ n: 0 });
  const t = performance.now();
  for (let i = 0; i < ${CALLS}; i++) await host.echo({ n: i });
  return (performance.now() - t) / ${CALLS};
}`;
const PY = `import time
from isobox import host
host.echo(n=0)
t = time.perf_counter()
for i in range(${CALLS}):
    host.echo(n=i)
(time.perf_counter() - t) * 1000 / ${CALLS}`;

async function perCall(sb: Sandbox, job: Parameters<Sandbox["run"]>[0]): Promise<Latency> {
  const samples: number[] = [];
  let errors = 0;
  const t = performance.now();
  for (let i = 0; i < JOBS; i++) {
    const r: RunResult = await sb.run(job);
    if (r.status === "ok" && typeof r.value === "number") samples.push(r.value);
    else errors++;
  }
  return summarize(samples, errors, performance.now() - t);
}

export async function benchCapabilities(containerAvailable: string | undefined, log: (s: string) => void): Promise<CapabilitiesResult> {
  const out: CapabilitiesResult = {};
  const sb = await open({ concurrency: 1, warm: { javascript: 1, python: 1 }, bindings });
  try {
    out.js = await perCall(sb, { language: "javascript", code: JS });
    log(`  binding call, JS isolate: p50 ${fmtMs(out.js.p50)} ms per call`);
    out.python = await perCall(sb, { language: "python", code: PY });
    log(`  binding call, Python isolate: p50 ${fmtMs(out.python.p50)} ms per call`);
  } finally {
    await shut(sb);
  }
  if (containerAvailable) {
    out.containerSkipped = containerAvailable;
    return out;
  }
  const csb = await open({ concurrency: 1, warm: { javascript: 0, container: 1 }, container: { enabled: true }, bindings });
  try {
    out.container = await perCall(csb, { language: "python", code: PY, backend: "container" });
    log(`  binding call, container: p50 ${fmtMs(out.container.p50)} ms per call`);
  } finally {
    await shut(csb);
  }
  return out;
}

export function capabilityRows(c: CapabilitiesResult | undefined): Row[] {
  if (!c) return [];
  const note = `per call, mean of ${CALLS} calls in one job, one sample per job (${JOBS} jobs); no-op handler`;
  return [
    { row: "isobox binding call round trip, JS isolate (await host.echo)", lat: c.js, note },
    { row: "isobox binding call round trip, Python isolate (host.echo blocks)", lat: c.python, note },
    c.container
      ? { row: "isobox binding call round trip, container (stdio frames)", lat: c.container, note }
      : { row: "isobox binding call round trip, container", note: c.containerSkipped ?? "not measured" },
  ];
}
