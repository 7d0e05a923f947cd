// `npm test`: the lint (eslint, prettier --check, tsc over src/test/bench), then vitest, then one closing line
// `N passed, N failed` read from vitest's JSON report, with a failed lint counted as one more failed
// check, and a non-zero exit on any failure (or on a run that executed no test at all).
// Arguments go to vitest (`npm test -- test/limits.test.ts`); a run given arguments is a partial
// run, so it skips the lint, which is about the whole tree (`npm run lint` runs it alone).
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (path: string) => fileURLToPath(new URL(`../node_modules/${path}`, import.meta.url));
const args = process.argv.slice(2);

const lintFailures: string[] = [];
if (args.length === 0) {
  const checks: [string, string[]][] = [
    ["eslint", [bin("eslint/bin/eslint.js"), "."]],
    ["prettier", [bin("prettier/bin/prettier.cjs"), "--check", "--log-level=warn", "."]],
    // src, test and bench together: the build's tsconfig covers src only, and a bench or test that
    // no longer matches the code it drives should fail here, not on the day someone runs it.
    ["typecheck", [bin("typescript/bin/tsc"), "-p", "tsconfig.check.json"]],
  ];
  for (const [name, argv] of checks) {
    const check = spawnSync(process.execPath, argv, { cwd: root, stdio: "inherit" });
    if (check.status !== 0) lintFailures.push(name);
  }
}

const report = `${root}.vitest-report.json`;
rmSync(report, { force: true });
const run = spawnSync(
  process.execPath,
  [
    bin("vitest/vitest.mjs"),
    "run",
    "--config",
    "test/vitest.config.ts",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
    ...args,
  ],
  { cwd: root, stdio: "inherit" },
);

let passed = 0,
  failed = 0,
  skipped = 0;
try {
  const r = JSON.parse(readFileSync(report, "utf8")) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  passed = r.numPassedTests;
  failed = r.numFailedTests;
  skipped = r.numPendingTests + r.numTodoTests;
} catch {
  failed = Math.max(failed, 1); // no report: vitest itself failed
}
if (run.status !== 0 && failed === 0) failed = 1; // e.g. a file that failed to load
if (lintFailures.length > 0) {
  console.log(`lint: failed (${lintFailures.join(", ")}; \`npm run lint\`, \`npm run format\`)`);
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
