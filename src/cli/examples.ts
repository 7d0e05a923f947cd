// `npm start`: runs every file in examples/ through the CLI on the isolate backend and prints results.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = fileURLToPath(new URL("./isobox.js", import.meta.url));
const files = readdirSync(new URL("examples/", `file://${root}`)).filter((f) => /\.(m?js|m?ts|py)$/.test(f)).sort();
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n$ isobox run examples/${f} --backend isolate\n`);
  const r = spawnSync(process.execPath, [cli, "run", `examples/${f}`, "--backend", "isolate"], { cwd: root, stdio: "inherit" });
  process.stdout.write(`(exit ${r.status})\n`);
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
