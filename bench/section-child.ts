// Runs the in-process isobox internals (internals.ts) in their own process:
// `node --no-node-snapshot bench/section-child.ts internals`. Each part prints one
// `BENCH_RESULT {json}` line as soon as it has it; the process then SIGKILLs itself rather than
// closing the pool — terminating worker threads that hold isolates can abort in isolated-vm
// (GetCurrent assertion). A native abort or hang here costs this section only, not the whole run.
import os from "node:os";
import { benchGuest, benchPool } from "./internals.ts";

const log = (s: string) => process.stderr.write(`${s}\n`);
const emit = (part: unknown) => new Promise<void>((r) => process.stdout.write(`BENCH_RESULT ${JSON.stringify(part)}\n`, () => r()));

if (process.argv[2] !== "internals") {
  log(`unknown section ${process.argv[2]}`);
  process.exit(2);
}
try {
  await emit(await benchGuest(log)); // main thread only, before any worker exists
  await emit(await benchPool(os.availableParallelism(), log));
} catch (e) {
  log(`  internals failed: ${e instanceof Error ? e.stack : String(e)}`);
}
process.kill(process.pid, "SIGKILL");
