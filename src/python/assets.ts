// The Pyodide files a Python guest may read while it boots: served from the installed `pyodide`
// package by name, never fetched (threat: a guest using the asset door to read other host files —
// only these exact names are answered).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
export const PYODIDE_DIR = dirname(require.resolve("pyodide/package.json"));

const SERVED = new Set(["pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"]);
const cache = new Map<string, Uint8Array>();

/** The offline wheels (wheels/wheels.lock.json): what the guest's import hook may ask for. */
const WHEELS_DIR = new URL("../../wheels/", import.meta.url).pathname;
interface WheelLock {
  wheels: Array<{ name: string; file: string; imports: string[]; depends: string[] }>;
}
const wheelLock = JSON.parse(readFileSync(join(WHEELS_DIR, "wheels.lock.json"), "utf8")) as WheelLock;
const WHEEL_FILES = new Set(wheelLock.wheels.map((w) => w.file));

/** import name → the wheel files to unpack for it, dependencies first (JSON, for the runner). */
export const WHEEL_INDEX_JSON = JSON.stringify(
  Object.fromEntries(
    wheelLock.wheels.flatMap((w) => {
      const files: string[] = [];
      const add = (name: string) => {
        const wheel = wheelLock.wheels.find((x) => x.name === name);
        if (!wheel || files.includes(wheel.file)) return;
        wheel.depends.forEach(add);
        files.push(wheel.file);
      };
      add(w.name);
      return w.imports.map((i) => [i, files]);
    }),
  ),
);

/**
 * The bytes of an allowed asset (cached per thread: every guest of this worker boots from them):
 * Pyodide's own files by name, or a wheel of the lock as `wheels/<file>`.
 */
export function assetBytes(path: string): Uint8Array {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const isWheel = path === `wheels/${name}` && WHEEL_FILES.has(name);
  if (!isWheel && (!SERVED.has(name) || (!path.startsWith("/pyodide/") && path !== name)))
    throw new Error(`isobox: no such asset: ${path}`);
  let bytes = cache.get(path);
  if (!bytes) cache.set(path, (bytes = new Uint8Array(readFileSync(isWheel ? join(WHEELS_DIR, "dist", name) : join(PYODIDE_DIR, name)))));
  return bytes;
}

export function assetText(name: string): string {
  return readFileSync(join(PYODIDE_DIR, name), "utf8");
}
