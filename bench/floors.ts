// Floors: what the same trivial job costs with nothing of isobox around it, in this process.
// - bare isolated-vm (the secure floor: a fresh isolate per job, as isobox does)
// - node:vm (NOT a security boundary; the "how fast can a fresh context be" floor)
import vm from "node:vm";
import ivm from "isolated-vm";
import { sequential, sequentialSync, type Latency } from "./stats.ts";

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

export async function benchFloors(log: (s: string) => void): Promise<FloorResult> {
  // 1. bare isolated-vm, fresh isolate per op
  const ivmFreshIsolate = await sequential(async () => {
    const isolate = new ivm.Isolate({ memoryLimit: 128 });
    try {
      const context = await isolate.createContext();
      return (await context.eval("1")) === 1;
    } finally {
      isolate.dispose();
    }
  }, { warmup: 50, n: 1000, maxMs: 15_000 });
  log(`  ivm fresh isolate p50 ${ivmFreshIsolate.p50.toFixed(3)} ms, ${ivmFreshIsolate.opsPerSec.toFixed(0)} ops/s`);

  // 1b. the same with isolated-vm's synchronous calls (no hop to the isolate's thread pool)
  const ivmFreshIsolateSync = sequentialSync(() => {
    const isolate = new ivm.Isolate({ memoryLimit: 128 });
    try {
      return isolate.createContextSync().evalSync("1") === 1;
    } finally {
      isolate.dispose();
    }
  }, { warmup: 50, n: 1000, maxMs: 15_000 });
  log(`  ivm fresh isolate (sync API) p50 ${ivmFreshIsolateSync.p50.toFixed(3)} ms, ${ivmFreshIsolateSync.opsPerSec.toFixed(0)} ops/s`);

  // 2. bare isolated-vm, one isolate, fresh context per op
  const shared = new ivm.Isolate({ memoryLimit: 128 });
  let ivmFreshContext: Latency;
  try {
    ivmFreshContext = await sequential(async () => {
      const context = await shared.createContext();
      try {
        return (await context.eval("1")) === 1;
      } finally {
        context.release();
      }
    }, { warmup: 50, n: 1000, maxMs: 15_000 });
  } finally {
    shared.dispose();
  }
  log(`  ivm fresh context p50 ${ivmFreshContext.p50.toFixed(3)} ms, ${ivmFreshContext.opsPerSec.toFixed(0)} ops/s`);

  // heap of one bare guest: isolate + context + a small script
  const probe = new ivm.Isolate({ memoryLimit: 128 });
  let ivmHeap: HeapStats;
  try {
    const context = await probe.createContext();
    await context.eval("globalThis.main = (x) => ({ sum: [1, 2, 3].reduce((a, b) => a + b, x ?? 0) }); main(1).sum");
    ivmHeap = heap(probe);
  } finally {
    probe.dispose();
  }

  // 3. node:vm — no security boundary, listed as the floor for "a fresh global"
  const vmRunInNewContext = sequentialSync(() => vm.runInNewContext("1") === 1, { warmup: 50, n: 1000, maxMs: 10_000 });
  const vmScriptFreshContext = sequentialSync(() => {
    const ctx = vm.createContext({});
    return new vm.Script("1").runInContext(ctx) === 1;
  }, { warmup: 50, n: 1000, maxMs: 10_000 });
  log(`  node:vm runInNewContext p50 ${vmRunInNewContext.p50.toFixed(3)} ms, Script+fresh context p50 ${vmScriptFreshContext.p50.toFixed(3)} ms`);

  return { ivmFreshIsolate, ivmFreshIsolateSync, ivmFreshContext, ivmHeap, vmRunInNewContext, vmScriptFreshContext };
}
