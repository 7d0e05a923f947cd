// `npm run bench`: isobox against its floors and secure-exec 0.2.1, side by side on this machine.
// Each section is independent: one that fails is recorded in the results and the rest still run.
// Every sandbox opened is closed, on success, on failure and on the watchdog.
// Env: BENCH_MAX_SECONDS (watchdog for the timed part, default 240),
//      BENCH_SKIP=isobox,internals,hops,floors,peer,memory,python,container,capabilities (comma-separated sections to leave out)
import os from "node:os";
import { benchFloors } from "./floors.ts";
import { benchHops } from "./hops.ts";
import { spawn } from "node:child_process";
import type { InternalsResult } from "./internals.ts";
import { benchIsobox, openSandboxes } from "./isobox.ts";
import { benchMemory } from "./memory.ts";
import { benchPython } from "./python.ts";
import { benchContainer, unavailable as containerUnavailable } from "./container.ts";
import { benchCapabilities } from "./capabilities.ts";
import { benchSecureExec, installSecureExec } from "./peers.ts";
import { environment, evaluateTargets, markdown, writeResults, type Results } from "./report.ts";
import { errorText } from "./stats.ts";

const cores = os.availableParallelism();
const skip = new Set(
  (process.env.BENCH_SKIP ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
const log = (s: string) => process.stderr.write(`${s}\n`);
const results: Results = { env: environment(cores), failures: {} };

async function closeAll(): Promise<void> {
  await Promise.allSettled([...openSandboxes].map((sb) => sb.close()));
  openSandboxes.clear();
}

async function section<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
  if (skip.has(name)) {
    log(`[${name}] skipped (BENCH_SKIP)`);
    return undefined;
  }
  log(`[${name}]`);
  try {
    return await fn();
  } catch (e) {
    results.failures[name] = e instanceof Error && e.stack ? e.stack.split("\n").slice(0, 4).join("\n") : errorText(e);
    log(`  FAILED: ${errorText(e)}`);
    return undefined;
  } finally {
    await closeAll();
  }
}

/** A section run in its own process (bench/section-child.ts); its abort or hang fails only it. */
function inChild<T>(name: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, ["--no-node-snapshot", new URL("./section-child.ts", import.meta.url).pathname, name], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      // Each part of the section prints one BENCH_RESULT line; merge what arrived.
      const parts = out
        .split("\n")
        .filter((l) => l.startsWith("BENCH_RESULT "))
        .map((l) => JSON.parse(l.slice("BENCH_RESULT ".length)) as object);
      if (parts.length) resolve(Object.assign({}, ...parts) as T);
      else reject(new Error(`section process ${signal ? `killed by ${signal}` : `exited with code ${code}`} without a result`));
    });
  });
}

function finish(): void {
  results.targets = evaluateTargets(results);
  const { json, md } = writeResults(results);
  process.stdout.write(`\n${markdown(results)}\n`);
  for (const t of results.targets) process.stdout.write(`${t.verdict.padEnd(4)}  ${t.name}: ${t.measured} (goal ${t.goal})\n`);
  process.stdout.write(`\nwrote ${json}\n      ${md}\n`);
}

// The peer is installed (once) before the clock starts: a first `npm install` takes about a minute.
const peer = skip.has("peer") ? undefined : installSecureExec(log);

const started = performance.now();
const maxSeconds = Number(process.env.BENCH_MAX_SECONDS ?? 240);
const watchdog = setTimeout(() => {
  results.failures.watchdog = `bench exceeded ${maxSeconds} s; results are partial`;
  log(`watchdog: ${results.failures.watchdog}`);
  void closeAll().finally(() => {
    try {
      finish();
    } finally {
      process.exit(2);
    }
  });
}, maxSeconds * 1000);
watchdog.unref();

// Quietest first: isobox on an otherwise idle machine, then the floors, the peer, memory last.
results.isobox = await section("isobox", () => benchIsobox(cores, log));
results.internals = await section("internals", () => inChild<InternalsResult>("internals", 90_000));
if (results.internals && !(results.internals.guestRun && results.internals.poolSequential)) {
  results.failures.internals = "part of the section process gave no result (its error is on stderr)";
}
results.hops = await section("hops", () => benchHops(cores, log));
results.floors = await section("floors", () => benchFloors(log));
if (peer) results.secureExec = await section("peer", () => benchSecureExec(peer, cores, log));
results.memory = await section("memory", () => benchMemory(log));
results.python = await section("python", () => benchPython(cores, log));
results.container = await section("container", () => benchContainer(log));
results.capabilities = await section("capabilities", () => benchCapabilities(containerUnavailable(), log));

clearTimeout(watchdog);
await closeAll();
results.totalSeconds = (performance.now() - started) / 1000;
finish();
// secure-exec's runtime process or a stray handle must not keep the bench alive.
process.exit(0);
