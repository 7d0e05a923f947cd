// Red-team findings against the refactor (contract, door, registry, lockdown): each test names one
// attack by a hostile guest or a hostile caller and asserts what the README promises. They were
// written to fail on the code they were found in; see the report in the commit message.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Job, type Sandbox } from "../../src/index.ts";
import { expectHealthy } from "./helpers.ts";
import { expectPyHealthy, pyAttack } from "./python-helpers.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ concurrency: 2, warm: { javascript: 1, python: 1 } });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
});

// (WebAssembly memory plus JS ArrayBuffers held to memoryMb together is the hardening issue's
// "one job, one budget" item: it is tested there, with the fix.)
describe("Python memory: one cap, however the guest splits its allocations", () => {
  it("pyodide_js._module.wasmTable.grow(9e6) is a memory outcome, not a wedged thread reported as timeout with cpuMs 0", async () => {
    const t = performance.now();
    const { r } = await pyAttack(sandbox, {
      code: "import pyodide_js\npyodide_js._module.wasmTable.grow(9_000_000)\n'grew'",
      limits: { memoryMb: 128, timeoutMs: 3000 },
    });
    // What happened: the grow (~250 MB of host memory for a 128 MB job) wedged the worker thread
    // until the wall clock; the thread was replaced and the job reported timeout, cpuMs 0.
    expect(r.status).toBe("memory");
    expect(performance.now() - t).toBeLessThan(3000);
  }, 30_000);
});

describe("statuses tell the truth: the Python soft stop", () => {
  it("a job that catches KeyboardInterrupt at its deadline and clears the shared interrupt buffer's SENT slot is timeout, not ok", async () => {
    // Found when the interrupt buffer held Pyodide's signal slot AND the host's "the soft stop was
    // sent" slot in one SharedArrayBuffer the guest can reach (Module.Py_EmscriptenSignalBuffer
    // .buffer): clearing slot 1 erased the host's own record. The flag now lives apart.
    const { r } = await pyAttack(sandbox, {
      code: [
        "import js, pyodide_js",
        "slots = js.Int32Array.new(pyodide_js._module.Py_EmscriptenSignalBuffer.buffer)",
        "n = 0",
        "try:",
        "    while True:",
        "        n += 1",
        "except KeyboardInterrupt:",
        "    slots[1] = 0",
        "    slots[0] = 0",
        "'finished after my deadline'",
      ].join("\n"),
      limits: { timeoutMs: 1500, memoryMb: 128 },
    });
    expect(r.usage.wallMs).toBeGreaterThanOrEqual(1500);
    expect(r.status).toBe("timeout");
  }, 30_000);
});

describe("the door: run() answers a job's content with a RunResult, never a throw", () => {
  const odd: Record<string, () => unknown> = {
    "a job whose code getter throws": () => ({
      language: "javascript",
      get code(): string {
        throw new Error("getter boom");
      },
    }),
    "a Proxy job whose ownKeys trap throws": () =>
      new Proxy(
        { language: "javascript", code: "1" },
        {
          ownKeys() {
            throw new Error("ownKeys boom");
          },
        },
      ),
    "a fake AbortSignal (Object.create(AbortSignal.prototype))": () => ({
      language: "javascript",
      code: "1",
      signal: Object.create(AbortSignal.prototype) as AbortSignal,
    }),
    "files whose Uint8Array is a Proxy with a throwing iterator": () => ({
      language: "javascript",
      code: "1",
      files: {
        a: new Proxy(new Uint8Array(4), {
          get(t, k) {
            if (k === Symbol.iterator) throw new Error("iterator boom");
            return Reflect.get(t, k) as unknown;
          },
        }),
      },
    }),
    "a backend getter that throws on every read": () => ({
      language: "python",
      code: "1",
      get backend(): never {
        throw new Error("backend boom");
      },
    }),
    "a Proxy as files whose getOwnPropertyDescriptor trap throws": () => ({
      language: "javascript",
      code: "1",
      files: new Proxy(
        { a: "x" },
        {
          getOwnPropertyDescriptor() {
            throw new Error("gopd boom");
          },
        },
      ),
    }),
  };
  for (const [name, make] of Object.entries(odd)) {
    it(`${name} is rejected (InvalidJob), not thrown`, async () => {
      let r;
      try {
        r = await sandbox.run(make() as Job);
      } catch (e) {
        expect.fail(`run() threw: ${(e as Error).message}`);
      }
      expect(r.status).toBe("rejected");
      expect(r.error?.name).toBe("InvalidJob");
      await expectHealthy(sandbox);
    });
  }

  it("TypeScript of 10,000 duplicate declarations on one line (100 KB) is answered within its timeoutMs, not after ~40 s of host work", async () => {
    // esbuild reports every duplicate, each error carrying the whole 100 KB line: the door spends
    // tens of seconds (and, at 40,000, stops esbuild's service) before any limit of the job applies.
    const t = performance.now();
    const r = await sandbox.run({ language: "typescript", code: "let x = 1;".repeat(10_000), limits: { timeoutMs: 1000 } });
    expect(r.status).not.toBe("ok");
    expect(performance.now() - t).toBeLessThan(5000);
    await expectPyHealthy(sandbox);
  }, 120_000);
});

describe("sessions: a call left waiting by an earlier run", () => {
  it("fails with AbortError in the next run instead of hanging whoever awaits it until the wall clock", async () => {
    const { z } = await import("zod");
    const own = await createSandbox({
      concurrency: 1,
      warm: { javascript: 1 },
      bindings: { slow: { input: z.object({}), handler: () => new Promise((r) => setTimeout(() => r(1), 60_000)) } },
    });
    try {
      const first = await own.run({
        language: "javascript",
        session: "left-waiting",
        code: `import * as host from "isobox:host"; globalThis.left = host.slow({}); globalThis.left.catch(() => {});`,
        limits: { timeoutMs: 2000 },
      });
      expect(first.status).toBe("ok");
      const t = performance.now();
      const second = await own.run({
        language: "javascript",
        session: "left-waiting",
        code: `export default async () => { try { await globalThis.left; return "answered"; } catch (e) { return e.name; } }`,
        limits: { timeoutMs: 5000 },
      });
      expect(second).toMatchObject({ status: "ok", value: "AbortError" });
      expect(performance.now() - t).toBeLessThan(4000);
    } finally {
      await own.close();
    }
  }, 30_000);
});

describe("values nested too deep to parse", () => {
  it("a Python job that forges its runner's value check to return JSON nested 1,000,000 deep gets output_limit, and its thread lives", async () => {
    // Reaches the runner's globals through its import hook and replaces the envelope's value check.
    const { r } = await pyAttack(sandbox, {
      code: [
        "import sys",
        "g = type(sys.meta_path[0]).find_spec.__globals__",
        "g['_value_outcome'] = lambda value, cap: {'kind': 'ok', 'json': '[' * 1_000_000 + ']' * 1_000_000}",
        "1",
      ].join("\n"),
    });
    expect(r.status).toBe("output_limit");
    expect(r.error).toMatchObject({ name: "OutputLimitError", message: "The returned value is nested deeper than 2000 levels" });
    await expectPyHealthy(sandbox);
  }, 60_000);
});

describe("values that are not what the guest returned", () => {
  it("JSON.rawJSON numbers that overflow or round (1e400, 2**53 + 1) are refused with InvalidValue, not returned as Infinity or a neighbour", async () => {
    for (const [raw, shown] of [
      ["1e400", "1e400"],
      ["9007199254740993", "9007199254740993"],
    ] as [string, string][]) {
      const r = await sandbox.run({ language: "javascript", code: `export default () => [1, JSON.rawJSON(${JSON.stringify(raw)})]` });
      expect(r.status, raw).toBe("error");
      expect(r.error?.name, raw).toBe("InvalidValue");
      expect(r.error?.message, raw).toContain(shown);
      expect("value" in r, raw).toBe(false);
    }
    const fine = await sandbox.run({ language: "javascript", code: "export default () => [1.5e300, 2 ** 53, -0.25, 'text 1e400']" });
    expect(fine).toMatchObject({ status: "ok", value: [1.5e300, 2 ** 53, -0.25, "text 1e400"] });
  });
});

describe("Python output without newlines", () => {
  it("50 MB written without a newline ends output_limit at maxOutputBytes, not buffered until the memory cap", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import sys\nfor _ in range(50):\n    sys.stdout.write('x' * 1_000_000)\n'done'",
      limits: { maxOutputBytes: 1 << 20, memoryMb: 256, timeoutMs: 20_000 },
    });
    expect(r.status).toBe("output_limit");
    expect(r.error?.name).toBe("OutputLimitError");
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(1 << 20);
    expect(r.stdout.length).toBeGreaterThan(0);
    await expectPyHealthy(sandbox);
  }, 60_000);
});
