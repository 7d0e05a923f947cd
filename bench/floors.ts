// Floors: what the same trivial job costs with nothing of isobox around it, in this process.
// - bare isolated-vm (the secure floor: a fresh isolate per job, as isobox does)
// - node:vm (NOT a security boundary; the "how fast can a fresh context be" floor)
import vm from "node:vm";
import ivm from "isolated-vm";
import { sequential, sequentialSync, type Latency, type Row } from "./stats.ts";

export interface HeapStats {
  totalHeapSizeMb: number;
  usedHeapSizeMb: number;
  externallyAllocatedMb: number;
}

export interface FloorResult {
  ivmFreshIsolate: Latency;
  ivmFreshIsolateSync: Latency;
  ivmFreshContext: Latency;
  ivmHeap: HeapStats;
  vmRunInNewContext: Latency;
  vmScriptFreshContext: Latency;
}

const MB = 1024 * 1024;

export function heap(isolate: ivm.Isolate): HeapStats {
  const h = isolate.getHeapStatisticsSync();
  return {
    totalHeapSizeMb: h.total_heap_size / MB,
    usedHeapSizeMb: h.used_heap_size / MB,
    externallyAllocatedMb: h.externally_allocated_size / MB,
  };
}

const OPS = { warmup: 50, n: 1000, maxMs: 15_000 };

/** 1. bare isolated-vm, a fresh isolate per op (async API, then the synchronous one: no hop to the isolate's thread pool) */
async function freshIsolates(log: (s: string) => void): Promise<Pick<FloorResult, "ivmFreshIsolate" | "ivmFreshIsolateSync">> {
  const ivmFreshIsolate = await sequential(async () => {
    const isolate = new ivm.Isolate({ memoryLimit: 128 });
    try {
      const context = await isolate.createContext();
      return (await context.eval("1")) === 1;
    } finally {
      isolate.dispose();
    }
  }, OPS);
  log(`  ivm fresh isolate p50 ${ivmFreshIsolate.p50.toFixed(3)} ms, ${ivmFreshIsolate.opsPerSec.toFixed(0)} ops/s`);
  const ivmFreshIsolateSync = sequentialSync(() => {
    const isolate = new ivm.Isolate({ memoryLimit: 128 });
    try {
      return isolate.createContextSync().evalSync("1") === 1;
    } finally {
      isolate.dispose();
    }
  }, OPS);
  log(`  ivm fresh isolate (sync API) p50 ${ivmFreshIsolateSync.p50.toFixed(3)} ms, ${ivmFreshIsolateSync.opsPerSec.toFixed(0)} ops/s`);
  return { ivmFreshIsolate, ivmFreshIsolateSync };
}

/** 2. bare isolated-vm, one isolate, a fresh context per op */
async function freshContexts(log: (s: string) => void): Promise<Latency> {
  const shared = new ivm.Isolate({ memoryLimit: 128 });
  try {
    const ivmFreshContext = await sequential(async () => {
      const context = await shared.createContext();
      try {
        return (await context.eval("1")) === 1;
      } finally {
        context.release();
      }
    }, OPS);
    log(`  ivm fresh context p50 ${ivmFreshContext.p50.toFixed(3)} ms, ${ivmFreshContext.opsPerSec.toFixed(0)} ops/s`);
    return ivmFreshContext;
  } finally {
    shared.dispose();
  }
}

/** The heap of one bare guest: isolate + context + a small script. */
async function bareGuestHeap(): Promise<HeapStats> {
  const probe = new ivm.Isolate({ memoryLimit: 128 });
  try {
    const context = await probe.createContext();
    await context.eval("globalThis.main = (x) => ({ sum: [1, 2, 3].reduce((a, b) => a + b, x ?? 0) }); main(1).sum");
    return heap(probe);
  } finally {
    probe.dispose();
  }
}

/** 3. node:vm: no security boundary, listed as the floor for "a fresh global" */
function nodeVm(log: (s: string) => void): Pick<FloorResult, "vmRunInNewContext" | "vmScriptFreshContext"> {
  const vmRunInNewContext = sequentialSync(() => vm.runInNewContext("1") === 1, { ...OPS, maxMs: 10_000 });
  const vmScriptFreshContext = sequentialSync(
    () => {
      const ctx = vm.createContext({});
      return new vm.Script("1").runInContext(ctx) === 1;
    },
    { ...OPS, maxMs: 10_000 },
  );
  log(
    `  node:vm runInNewContext p50 ${vmRunInNewContext.p50.toFixed(3)} ms, Script+fresh context p50 ${vmScriptFreshContext.p50.toFixed(3)} ms`,
  );
  return { vmRunInNewContext, vmScriptFreshContext };
}

export async function benchFloors(log: (s: string) => void): Promise<FloorResult> {
  const isolates = await freshIsolates(log);
  const ivmFreshContext = await freshContexts(log);
  const ivmHeap = await bareGuestHeap();
  return { ...isolates, ivmFreshContext, ivmHeap, ...nodeVm(log) };
}

export function floorRows(f: FloorResult | undefined): Row[] {
  if (!f) return [];
  return [
    {
      row: "floor: isolated-vm fresh isolate, in-process",
      lat: f.ivmFreshIsolate,
      note: "new Isolate + createContext + eval('1') + dispose, one thread",
    },
    {
      row: "floor: isolated-vm fresh isolate, sync API",
      lat: f.ivmFreshIsolateSync,
      note: "same with createContextSync/evalSync (no isolate-thread hop)",
    },
    {
      row: "floor: isolated-vm fresh context, reused isolate",
      lat: f.ivmFreshContext,
      note: "createContext + eval('1') + release, one thread",
    },
    { row: "node:vm runInNewContext('1') (NOT secure)", lat: f.vmRunInNewContext, note: "unsafe floor, same thread" },
    {
      row: "node:vm Script + runInContext, fresh context (NOT secure)",
      lat: f.vmScriptFreshContext,
      note: "unsafe floor, same thread",
    },
  ];
}
