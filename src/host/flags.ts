// Runs in: the embedding process (it starts the sandbox host process with these).
// Flags for the sandbox host process. isolated-vm needs --no-node-snapshot on the process that loads
// it. Node's permission model is defence in depth behind the isolate: should a guest ever reach host
// JavaScript, that process can read only isobox's own files and dependencies, write nothing, spawn
// no processes. Worker threads and the isolated-vm addon are the two powers it is granted.
import { createRequire } from "node:module";
import { dirname, sep } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

/** The folder that holds isobox's dependencies (…/node_modules), found from isolated-vm itself. */
function dependencyRoot(): string {
  const entry = require.resolve("isolated-vm");
  const marker = `${sep}node_modules${sep}`;
  const at = entry.lastIndexOf(marker);
  return at >= 0 ? entry.slice(0, at + marker.length - 1) : dirname(entry);
}

export function hostExecArgv(): string[] {
  const packageRoot = fileURLToPath(new URL("../../", import.meta.url));
  // The permission model is always on: there is no switch that takes this defence layer away.
  return [
    "--no-node-snapshot",
    "--expose-gc", // the prelude takes `gc` for itself and removes it from every guest's global
    "--max-old-space-size=512",
    "--disable-warning=SecurityWarning",
    "--permission",
    "--allow-addons",
    "--allow-worker",
    `--allow-fs-read=${packageRoot}`,
    `--allow-fs-read=${dependencyRoot()}`,
    "--allow-fs-read=/etc/alpine-release",
  ];
}

/**
 * The host process gets none of the embedding app's environment (threat: API keys and tokens in
 * process.env, one escape away from a guest): only isobox's own switches, and no NODE_OPTIONS.
 */
export function hostEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ["ISOBOX_DEBUG", "ISOBOX_FAULT_INJECTION"]) if (process.env[key] !== undefined) env[key] = process.env[key];
  return env;
}
