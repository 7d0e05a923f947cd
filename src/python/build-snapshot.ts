// `npm run build:snapshot`: take a Pyodide memory snapshot of a clean interpreter and cache it on
// disk (see snapshot-file.ts). Also spawned by the sandbox on first Python use when the cache is
// missing. It runs no guest code. Written to a temporary name, then renamed: readers never see a
// partial file.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { PythonGuest } from "./python-guest.ts";
import { pythonSnapshotFile } from "./snapshot-file.ts";

const file = pythonSnapshotFile();
const started = performance.now();
const bytes = await PythonGuest.makeSnapshot();
mkdirSync(dirname(file), { recursive: true });
const partial = `${file}.${process.pid}.tmp`;
writeFileSync(partial, bytes);
renameSync(partial, file);
process.stdout.write(
  `isobox: Pyodide snapshot (${(bytes.byteLength / 1048576).toFixed(1)} MB) written to ${file} in ${Math.round(performance.now() - started)} ms\n`,
);
// Nothing else is to happen here; do not wait on handles the interpreter's isolate may leave.
process.exit(0);
