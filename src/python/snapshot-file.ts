// Where the Pyodide memory snapshot is cached: keyed by the Pyodide and isobox versions, in the
// dependency folder's .cache (readable by the sandbox host process, which may not write anywhere).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { preludeFiles } from "../isolate/prelude.ts";

const require = createRequire(import.meta.url);

function version(pkgJson: string): string {
  return (JSON.parse(readFileSync(pkgJson, "utf8")) as { version: string }).version;
}

/** The result envelope's helpers, the runner, then the `isobox` module of capabilities: one source, run (or restored) at boot. */
export const RUNNER_FILES = ["results.py", "runner.py", "capabilities.py"].map(
  (f) => new URL(`../../runtimes/python/${f}`, import.meta.url),
);

/**
 * What the snapshot holds besides Pyodide: the runner compiled into it, and the boot code that took
 * it (every fragment of the Python prelude). A change to either must not restore a stale
 * interpreter, so both are part of the key.
 */
function bootSourcesHash(): string {
  const hash = createHash("sha256");
  for (const f of [...RUNNER_FILES, ...preludeFiles("python")]) hash.update(readFileSync(f));
  return hash.digest("hex").slice(0, 12);
}

/** Computed once per process (two package.json reads and a hash of the boot sources: not per job). */
let snapshotFile: string | undefined;

export function pythonSnapshotFile(): string {
  return (snapshotFile ??= snapshotFileName());
}

function snapshotFileName(): string {
  const pyodidePkg = require.resolve("pyodide/package.json");
  const isoboxPkg = new URL("../../package.json", import.meta.url).pathname;
  const marker = `${sep}node_modules${sep}`;
  const root = pyodidePkg.slice(0, pyodidePkg.lastIndexOf(marker) + marker.length - 1) || dirname(pyodidePkg);
  return join(root, ".cache", "isobox", `pyodide-${version(pyodidePkg)}-isobox-${version(isoboxPkg)}-${bootSourcesHash()}.snapshot`);
}

let building = false;
/** Seen on disk once: it is never removed while the process runs. */
let present = false;

/**
 * Build the snapshot cache in the background if it is missing (once per process). The builder is a
 * separate short-lived process: the sandbox host process itself may not write files.
 */
export function ensurePythonSnapshot(): void {
  if (building || present) return;
  if (existsSync(pythonSnapshotFile())) {
    present = true;
    return;
  }
  building = true;
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  const builder = new URL(`./build-snapshot.${ext}`, import.meta.url).pathname;
  const child = spawn(process.execPath, ["--no-node-snapshot", builder], { stdio: "ignore", env: {} });
  child.on("error", () => {});
  child.on("exit", () => {
    building = false;
  });
  child.unref();
}
