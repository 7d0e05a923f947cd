// The Pyodide files a Python guest may read while it boots: served from the installed `pyodide`
// package by name, never fetched (threat: a guest using the asset door to read other host files —
// only these exact names are answered).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
export const PYODIDE_DIR = dirname(require.resolve("pyodide/package.json"));
export const PYODIDE_VERSION = (JSON.parse(readFileSync(join(PYODIDE_DIR, "package.json"), "utf8")) as { version: string }).version;

const SERVED = new Set(["pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"]);
const cache = new Map<string, Uint8Array>();

/** The bytes of an allowed asset (cached per thread: every guest of this worker boots from them). */
export function assetBytes(path: string): Uint8Array {
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (!SERVED.has(name) || !path.startsWith("/pyodide/") && path !== name) throw new Error(`isobox: no such asset: ${path}`);
  let bytes = cache.get(name);
  if (!bytes) cache.set(name, (bytes = new Uint8Array(readFileSync(join(PYODIDE_DIR, name)))));
  return bytes;
}

export function assetText(name: string): string {
  return readFileSync(join(PYODIDE_DIR, name), "utf8");
}
