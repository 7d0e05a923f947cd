// close() while jobs are pending or still being admitted: every one ends killed/SandboxClosed, and
// nothing (no host process) is started after close.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSandbox } from "../src/index.ts";

/** Sandbox host processes of this test process (esbuild's own service process is not one). */
function hostProcesses(): number[] {
  let pids: number[];
  try {
    pids = execFileSync("pgrep", ["-P", String(process.pid)], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("host/child");
    } catch {
      return false;
    }
  });
}

describe("close()", () => {
  it("answers a TypeScript job still compiling at close() with SandboxClosed and starts no host process after", async () => {
    const sandbox = await createSandbox({ concurrency: 1, warm: { javascript: 0 } });
    const host = sandbox.hostPid;
    const pending = sandbox.run({ language: "typescript", code: "export default (): number => 1" });
    await sandbox.close();
    const r = await pending;
    expect(r).toMatchObject({ status: "killed", error: { name: "SandboxClosed" } });
    await new Promise((res) => setTimeout(res, 200));
    expect(hostProcesses()).toEqual([]);
    expect(() => process.kill(host, 0)).toThrow();
  });

  it("answers a running job with killed/SandboxClosed, whichever way its backend heard of the close", async () => {
    const sandbox = await createSandbox({ concurrency: 1, warm: { javascript: 1 } });
    const running = sandbox.run({ language: "javascript", code: "while (true) {}", limits: { timeoutMs: 20_000 } });
    await new Promise((res) => setTimeout(res, 300));
    await sandbox.close();
    expect(await running).toMatchObject({ status: "killed", error: { name: "SandboxClosed" } });
    expect(await sandbox.run({ language: "javascript", code: "1" })).toMatchObject({ status: "killed", error: { name: "SandboxClosed" } });
  });

  it("a job whose signal aborts while its TypeScript compiles never starts: killed before it started", async () => {
    const sandbox = await createSandbox({ concurrency: 1, warm: { javascript: 1 } });
    try {
      const abort = new AbortController();
      const pending = sandbox.run({
        language: "typescript",
        code: "globalThis.ran = true; export default (): number => { while (true) {} }",
        signal: abort.signal,
        limits: { timeoutMs: 10_000 },
      });
      abort.abort();
      const t = performance.now();
      const r = await pending;
      expect(r).toMatchObject({ status: "killed", error: { name: "AbortError", message: "The job was aborted before it started" } });
      expect(performance.now() - t).toBeLessThan(2000);
    } finally {
      await sandbox.close();
    }
  });
});
