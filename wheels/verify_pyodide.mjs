// Import and smoke-test every wheel in wheels/dist inside Pyodide (the
// Python 3.14 / WebAssembly runtime isobox uses), one fresh interpreter per
// wheel with only that wheel and its declared `depends` unpacked.
//   node wheels/verify_pyodide.mjs        (Node >= 24: node_modules/node/bin/node)
// Uses the same SMOKE snippets as verify.py. Warnings raised while importing
// (e.g. SyntaxWarning for old escape sequences) are reported, not failures.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPyodide } from "pyodide";

const here = dirname(fileURLToPath(import.meta.url));
const lock = JSON.parse(readFileSync(join(here, "wheels.lock.json"), "utf8"));
const byName = new Map(lock.wheels.map((w) => [w.name, w]));
const verifySrc = readFileSync(join(here, "verify.py"), "utf8");

let passed = 0, failed = 0, version = "";
for (const w of lock.wheels) {
  const py = await loadPyodide({ stdout: () => {}, stderr: () => {} });
  const seen = new Set(), todo = [w];
  py.FS.mkdirTree("/whl");
  while (todo.length) {
    const x = todo.pop();
    if (seen.has(x.name)) continue;
    seen.add(x.name);
    py.FS.writeFile(`/whl/${x.file}`, readFileSync(join(here, lock.dist ?? "dist", x.file)));
    todo.push(...x.depends.map((d) => byName.get(d)));
  }
  py.FS.writeFile("/verify_src.py", verifySrc);
  py.globals.set("W", py.toPy({ name: w.name, imports: w.imports }));
  try {
    const res = py.runPython(`
import sys, os, zipfile, importlib, warnings, json
version = sys.version.split()[0]
target = "/wheel-test"
os.makedirs(target, exist_ok=True)
for f in sorted(os.listdir("/whl")):
    zipfile.ZipFile("/whl/" + f).extractall(target)
sys.path.insert(0, target)
sys.path.insert(1, "/")
SMOKE = importlib.import_module("verify_src").SMOKE
sys.path.remove("/")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for m in W["imports"]:
        mod = importlib.import_module(m)
        assert mod.__file__.startswith(target), mod.__file__
    exec(SMOKE.get(W["name"], ""), {})
notes = sorted({f"{c.category.__name__}: {os.path.relpath(c.filename, target)}:{c.lineno}"
                for c in caught if c.filename.startswith(target)})
json.dumps({"version": version, "notes": notes})
`);
    const { version: v, notes } = JSON.parse(res);
    version = v;
    passed++;
    console.log(`${w.file.padEnd(48)} ok${notes.length ? ` (${notes.length} warning(s): ${notes.slice(0, 3).join("; ")}${notes.length > 3 ? "; ..." : ""})` : ""}`);
  } catch (e) {
    failed++;
    const msg = String(e.message ?? e).trim().split("\n").slice(-1)[0];
    console.log(`${w.file.padEnd(48)} FAIL ${msg}`);
  }
}
console.log(`Pyodide Python ${version}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
