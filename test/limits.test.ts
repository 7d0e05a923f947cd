import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../src/index.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ concurrency: 2, warm: { javascript: 2 } });
});
afterAll(async () => {
  await sandbox.close();
});

const js = (code: string, extra: Record<string, unknown> = {}) => sandbox.run({ language: "javascript", code, ...extra });

describe("limits and statuses", () => {
  it("stops a synchronous infinite loop at the wall-clock limit and reports timeout", async () => {
    const r = await js("while (true) {}", { limits: { timeoutMs: 300 } });
    expect(r.status).toBe("timeout");
    expect(r.error?.name).toBe("TimeoutError");
    expect(r.usage.wallMs).toBeLessThan(2000);
  });
  it("counts time spent awaiting a never-settling promise against the wall clock", async () => {
    const r = await js("export default () => new Promise(() => {})", { limits: { timeoutMs: 300 } });
    expect(r.status).toBe("timeout");
    expect(r.error?.message).toMatch(/wall-clock limit of 300 ms/);
  });
  it("stops a job at its CPU limit even when the wall clock allows more", async () => {
    const r = await js("while (true) {}", { limits: { timeoutMs: 5000, cpuTimeMs: 200 } });
    expect(r.status).toBe("timeout");
    expect(r.error?.message).toMatch(/CPU time limit of 200 ms/);
    expect(r.usage.wallMs).toBeLessThan(2000);
  });
  it("does not count idle waiting against the CPU limit", async () => {
    const r = await js("await new Promise((r) => setTimeout(r, 300)); export default 'ok';", {
      limits: { timeoutMs: 5000, cpuTimeMs: 100 },
    });
    expect(r.status).toBe("ok");
    expect(r.usage.cpuMs).toBeLessThan(100);
  });
  it("reports memory when the guest heap exceeds memoryMb", async () => {
    const r = await js("const a = []; while (true) a.push({ x: Math.random(), y: [1, 2, 3] });", {
      limits: { memoryMb: 32, timeoutMs: 10000 },
    });
    expect(r.status).toBe("memory");
    expect(r.error?.message).toMatch(/32 MB/);
  });
  it("reports memory for ArrayBuffer bombs, which live outside the JS heap", async () => {
    const r = await js("const keep = []; while (true) keep.push(new ArrayBuffer(1 << 20));", {
      limits: { memoryMb: 32, timeoutMs: 10000 },
    });
    expect(r.status).toBe("memory");
  });
  it("stops at maxOutputBytes with output_limit and keeps what fit", async () => {
    const r = await js("while (true) console.log('0123456789');", { limits: { maxOutputBytes: 1000 } });
    expect(r.status).toBe("output_limit");
    expect(r.stdout.length).toBe(1000);
    expect(r.stdout.startsWith("0123456789\n")).toBe(true);
  });
  it("counts stdout and stderr together against maxOutputBytes", async () => {
    const r = await js("console.log('a'.repeat(600)); console.error('b'.repeat(600));", { limits: { maxOutputBytes: 1000 } });
    expect(r.status).toBe("output_limit");
    expect(r.stdout.length + r.stderr.length).toBe(1000);
  });
  it("aborts a running job through its AbortSignal with killed", async () => {
    const ac = new AbortController();
    const p = js("export default () => new Promise(() => {})", { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const r = await p;
    expect(r.status).toBe("killed");
    expect(r.usage.wallMs).toBeLessThan(3000);
  });
  it("aborts a guest busy in a synchronous loop within a short grace, and the pool keeps serving", async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = js("while (true) {}", { signal: ac.signal, limits: { timeoutMs: 10_000 } });
    setTimeout(() => ac.abort(), 100);
    const r = await p;
    expect(r.status).toBe("killed");
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await js("export default 3")).value).toBe(3);
  });
  it("answers an already-aborted signal with killed without running anything", async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await js("console.log('ran')", { signal: ac.signal });
    expect(r.status).toBe("killed");
    expect(r.stdout).toBe("");
  });
  it("streams stdout/stderr per line, in order, while the job runs", async () => {
    const seen: Array<[string, number]> = [];
    const started = Date.now();
    const r = await js(
      "for (let i = 0; i < 3; i++) { console.log('line ' + i); await new Promise((r) => setTimeout(r, 150)); } console.error('done');",
      {
        onStdout: (l: string) => seen.push([l, Date.now() - started]),
        onStderr: (l: string) => seen.push(["err:" + l, Date.now() - started]),
      },
    );
    expect(r.status).toBe("ok");
    expect(seen.map((s) => s[0])).toEqual(["line 0", "line 1", "line 2", "err:done"]);
    // the first line arrived long before the job ended
    expect(seen[0]![1]).toBeLessThan(seen[3]![1] - 250);
  });
  it("splits multi-line writes into lines and flushes a trailing partial line", async () => {
    const lines: string[] = [];
    const r = await js("console.log('a\\nb'); console.log('')", { onStdout: (l: string) => lines.push(l) });
    expect(lines).toEqual(["a", "b", ""]);
    expect(r.stdout).toBe("a\nb\n\n");
  });
  it("survives a throwing onStdout callback", async () => {
    const r = await js("console.log('x'); export default 1", {
      onStdout: () => {
        throw new Error("caller bug");
      },
    });
    expect(r.status).toBe("ok");
  });
  it("runs jobs concurrently up to the pool size", async () => {
    // Each job reports when it ran; concurrency means the two spans overlap. (A bound on the total
    // elapsed time would also measure how loaded the machine is.)
    const code = "const from = Date.now(); await new Promise((r) => setTimeout(r, 300)); export default [from, Date.now()]";
    const rs = await Promise.all([1, 2].map(() => js(code)));
    expect(rs.map((r) => r.status)).toEqual(["ok", "ok"]);
    const [a, b] = rs.map((r) => r.value as [number, number]);
    expect(Math.max(a![0], b![0])).toBeLessThan(Math.min(a![1], b![1]));
  });
  it("never reuses an isolate: a global set by one job is absent from the next", async () => {
    await js("globalThis.leaked = 'secret'; Object.prototype.polluted = 1;");
    const rs = await Promise.all(Array.from({ length: 6 }, () => js("export default [typeof leaked, ({}).polluted === undefined]")));
    for (const r of rs) expect(r.value).toEqual(["undefined", true]);
  });
  it("applies per-job memoryMb other than the warm default with a fresh isolate", async () => {
    const r = await js("export default 1", { limits: { memoryMb: 64 } });
    expect(r).toMatchObject({ status: "ok", value: 1 });
  });
});
