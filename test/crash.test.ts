import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../src/index.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ concurrency: 2, warm: { javascript: 1 } });
});
afterAll(async () => {
  await sandbox.close();
});

const slow = { language: "javascript" as const, code: "export default () => new Promise((r) => setTimeout(() => r('late'), 3000))" };
const quick = { language: "javascript" as const, code: "export default () => 'fine'" };

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("crash containment", () => {
  it("answers every in-flight job with crashed when the host process is killed -9, then recovers", async () => {
    const pid = sandbox.hostPid;
    expect(alive(pid)).toBe(true);
    const inflight = [sandbox.run(slow), sandbox.run(slow), sandbox.run(slow)];
    await new Promise((r) => setTimeout(r, 200));
    process.kill(pid, "SIGKILL");
    const results = await Promise.all(inflight);
    for (const r of results) {
      expect(r.status).toBe("crashed");
      expect(r.error?.message).toMatch(/SIGKILL/);
    }
    const next = await sandbox.run(quick);
    expect(next).toMatchObject({ status: "ok", value: "fine" });
    expect(sandbox.hostPid).not.toBe(pid);
    expect(alive(pid)).toBe(false);
  });

  it("keeps serving after repeated crashes", async () => {
    for (let i = 0; i < 3; i++) {
      const p = sandbox.run(slow);
      await new Promise((r) => setTimeout(r, 100));
      process.kill(sandbox.hostPid, "SIGKILL");
      expect((await p).status).toBe("crashed");
      expect((await sandbox.run(quick)).status).toBe("ok");
    }
  });

  it("survives a host process that exits on its own while idle", async () => {
    const pid = sandbox.hostPid;
    process.kill(pid, "SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    expect((await sandbox.run(quick)).status).toBe("ok");
  });
});

describe("close()", () => {
  it("ends pending jobs with killed, stops the host process, and answers later runs with killed", async () => {
    const own = await createSandbox({ concurrency: 1, warm: { javascript: 0 } });
    const pid = own.hostPid;
    const pending = [own.run(slow), own.run(slow)];
    await new Promise((r) => setTimeout(r, 100));
    await own.close();
    for (const r of await Promise.all(pending)) expect(r.status).toBe("killed");
    expect(alive(pid)).toBe(false);
    expect((await own.run(quick)).status).toBe("killed");
    await own.close(); // idempotent
  });
});

describe("wedged worker thread", () => {
  it("terminates and replaces a worker thread stuck past the deadline; the job gets timeout and the pool keeps serving", async () => {
    process.env.ISOBOX_FAULT_INJECTION = "1";
    const own = await createSandbox({ concurrency: 1, warm: { javascript: 1 } });
    delete process.env.ISOBOX_FAULT_INJECTION;
    try {
      const started = Date.now();
      const pid = own.hostPid;
      const r = await own.run({ language: "javascript", code: "//isobox:wedge-worker\nexport default 1", limits: { timeoutMs: 300 } });
      expect(r.status).toBe("timeout");
      expect(r.error?.message).toMatch(/worker thread was replaced/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await own.run(quick)).toMatchObject({ status: "ok", value: "fine" });
      // a thread stuck in native code may never really stop: the whole host process is recycled
      expect(own.hostPid).not.toBe(pid);
      await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid)).toBe(false);
    } finally {
      await own.close();
    }
  });
});

describe("sandbox host process", () => {
  it("runs with --no-node-snapshot and Node's permission model, and none of the embedding app's environment", async () => {
    const { readFileSync } = await import("node:fs");
    process.env.ISOBOX_TEST_SECRET_ENV = "top-secret-value";
    const own = await createSandbox({ concurrency: 1, warm: { javascript: 0 } });
    try {
      const cmdline = readFileSync(`/proc/${own.hostPid}/cmdline`, "utf8").split("\0");
      expect(cmdline).toContain("--no-node-snapshot");
      expect(cmdline).toContain("--permission");
      expect(cmdline.some((a) => a.startsWith("--allow-fs-write") || a === "--allow-child-process")).toBe(false);
      const environ = readFileSync(`/proc/${own.hostPid}/environ`, "utf8");
      expect(environ).not.toContain("top-secret-value");
    } finally {
      delete process.env.ISOBOX_TEST_SECRET_ENV;
      await own.close();
    }
  });
});
