// `npm start`: runs every file in examples/ through the CLI on the isolate backend and prints results.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = fileURLToPath(new URL("./isobox.js", import.meta.url));
const files = readdirSync(new URL("examples/", `file://${root}`))
  .filter((f) => /\.(m?js|m?ts|py)$/.test(f))
  .sort();
let failed = 0;
/** Extra CLI arguments an example asks for in an `isobox-args:` comment on its first lines. */
function exampleArgs(file: string): string[] {
  const head = readFileSync(new URL(`examples/${file}`, `file://${root}`), "utf8")
    .split("\n", 5)
    .join("\n");
  const m = /isobox-args:(.*)/.exec(head);
  return m ? m[1]!.trim().split(/\s+/) : [];
}

for (const f of files) {
  const args = ["run", `examples/${f}`, "--backend", "isolate", ...exampleArgs(f)];
  process.stdout.write(`\n$ isobox ${args.join(" ")}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: "inherit" });
  process.stdout.write(`(exit ${r.status})\n`);
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
