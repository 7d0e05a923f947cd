// Peer: secure-exec 0.2.1 from npm (`NodeRuntime.run`). Installed on demand into the git-ignored
// bench/.peers/ (never a dependency of isobox), run the way its quickstart shows: one NodeRuntime,
// created once, `run(code)` many times. Any failure is recorded, never thrown.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { errorText, sequential, throughput, type Latency, type Row, type Throughput } from "./stats.ts";

const VERSION = "0.2.1";
const PEERS = fileURLToPath(new URL("./.peers/", import.meta.url));
const PKG_DIR = `${PEERS}node_modules/secure-exec/`;

/** The equivalent of isobox's `export default () => 1`: secure-exec returns the module's exports. */
const CODE = "const main = () => 1;\nexport default main();\n";

export interface PeerResult {
  name: string;
  version: string;
  ok: boolean;
  install: { alreadyPresent: boolean; ms?: number; command?: string; installScripts: string; warnings: string[] };
  firstRunMs?: number;
  sequential?: Latency;
  throughput: Throughput[];
  error?: string;
}

function installedVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(`${PKG_DIR}package.json`, "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function ensureInstalled(result: PeerResult, log: (s: string) => void): void {
  if (installedVersion() === VERSION) {
    result.install.alreadyPresent = true;
    return;
  }
  const args = ["install", "--prefix", PEERS, `secure-exec@${VERSION}`, "--no-save", "--no-audit", "--no-fund"];
  result.install.command = `npm ${args.join(" ")}`;
  log(`  installing: ${result.install.command}`);
  const t = performance.now();
  // The system npm is fine for fetching; the package itself runs in this (Node 24) process.
  const r = spawnSync("npm", args, { encoding: "utf8", timeout: 240_000, stdio: ["ignore", "pipe", "pipe"] });
  result.install.ms = performance.now() - t;
  const out = `${r.stdout ?? ""}\n${r.stderr ?? ""}`;
  result.install.warnings = out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /install-scripts|ERR!/.test(l) && !/nodedir/.test(l));
  if (r.error || r.status !== 0) {
    throw new Error(
      `npm install failed (${r.error ? errorText(r.error) : `exit ${r.status}`}): ${out.trim().split("\n").slice(-8).join(" | ")}`,
    );
  }
  if (installedVersion() !== VERSION) throw new Error(`npm install finished but ${PKG_DIR}package.json is not version ${VERSION}`);
}

/** A peer that hangs must not hang the bench. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

interface SecureExecModule {
  NodeRuntime: new (o: { systemDriver: unknown; runtimeDriverFactory: unknown }) => {
    run(code: string, filePath?: string): Promise<{ code: number; errorMessage?: string; exports?: { default?: unknown } }>;
    dispose(): void;
    terminate?(): Promise<void>;
  };
  createNodeDriver(): unknown;
  createNodeRuntimeDriverFactory(): unknown;
}

function newResult(): PeerResult {
  return {
    name: "secure-exec",
    version: VERSION,
    ok: false,
    install: {
      alreadyPresent: false,
      // Checked: 0.2.1 runs with dependency install scripts blocked (npm lists better-sqlite3,
      // esbuild and cbor-extract as not run); its V8 binary comes in @secure-exec/v8-linux-x64-gnu.
      installScripts: "not allowed, not needed (npm's default blocking kept; no --allow-scripts)",
      warnings: [],
    },
    throughput: [],
  };
}

/** Step 1, before the timed part of the bench: make sure secure-exec is in bench/.peers/. */
export function installSecureExec(log: (s: string) => void): PeerResult {
  const result = newResult();
  try {
    ensureInstalled(result, log);
  } catch (e) {
    result.error = errorText(e);
    log(`  secure-exec install failed: ${result.error}`);
  }
  return result;
}

/** Step 2: measure it (skipped, with the install error kept, if step 1 failed). */
export async function benchSecureExec(result: PeerResult, cores: number, log: (s: string) => void): Promise<PeerResult> {
  if (result.error) return result;
  let runtime: InstanceType<SecureExecModule["NodeRuntime"]> | undefined;
  try {
    if (!existsSync(`${PKG_DIR}dist/index.js`)) throw new Error(`${PKG_DIR}dist/index.js missing`);
    const se = (await import(pathToFileURL(`${PKG_DIR}dist/index.js`).href)) as SecureExecModule;
    runtime = new se.NodeRuntime({ systemDriver: se.createNodeDriver(), runtimeDriverFactory: se.createNodeRuntimeDriverFactory() });
    const rt = runtime;
    let lastError = "";
    const op = async () => {
      try {
        const r = await withTimeout(rt.run(CODE), 10_000);
        const ok = r.code === 0 && r.exports?.default === 1;
        if (!ok) lastError = `code ${r.code}: ${r.errorMessage ?? JSON.stringify(r).slice(0, 300)}`;
        return ok;
      } catch (e) {
        lastError = errorText(e);
        return false;
      }
    };
    const t = performance.now();
    const first = await withTimeout(rt.run(CODE), 60_000);
    result.firstRunMs = performance.now() - t;
    if (first.code !== 0 || first.exports?.default !== 1)
      throw new Error(`first run did not return 1: ${JSON.stringify(first).slice(0, 500)}`);
    log(`  first run ${result.firstRunMs.toFixed(1)} ms`);

    result.sequential = await sequential(op, { warmup: 10, n: 300, maxMs: 12_000 });
    log(`  sequential n=${result.sequential.n} p50 ${result.sequential.p50.toFixed(2)} ms`);
    for (const concurrency of [...new Set([cores, 2 * cores])]) {
      const tp = await throughput(op, { concurrency, maxJobs: 5000, maxMs: 4000 });
      log(`  throughput c=${concurrency}: ${tp.opsPerSec.toFixed(1)} jobs/s (${tp.jobs} jobs, ${tp.errors} errors)`);
      result.throughput.push(tp);
    }
    const errors = (result.sequential.errors ?? 0) + result.throughput.reduce((a, b) => a + b.errors, 0);
    if (errors > 0) result.error = `${errors} runs did not return 1; last: ${lastError}`;
    result.ok = true;
  } catch (e) {
    result.error = e instanceof Error ? `${errorText(e)}${e.stack ? `\n${e.stack.split("\n").slice(1, 4).join("\n")}` : ""}` : String(e);
    log(`  secure-exec failed: ${result.error}`);
  } finally {
    try {
      if (runtime?.terminate) await runtime.terminate();
      else runtime?.dispose();
    } catch (e) {
      result.error = `${result.error ? `${result.error}; ` : ""}dispose failed: ${errorText(e)}`;
    }
  }
  return result;
}

export function secureExecRows(s: PeerResult | undefined): Row[] {
  if (!s) return [];
  return [
    {
      row: `secure-exec ${s.version} NodeRuntime.run, warm runtime`,
      lat: s.sequential,
      tp: s.throughput[0],
      note: s.ok ? "one NodeRuntime created once, run() per job" : `FAILED: ${s.error?.split("\n")[0]}`,
    },
    ...s.throughput.slice(1).map((tp) => ({ row: `secure-exec ${s.version}, c=${tp.concurrency}`, tp, note: "" })),
  ];
}
