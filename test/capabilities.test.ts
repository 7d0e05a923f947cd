// Bindings as guests see them: `isobox:host` in JS/TS, `from isobox import host` in Python. The
// handlers run in this (embedding) process; arguments are validated by the binding's zod schema first.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createSandbox, type Sandbox } from "../src/index.ts";

const calls: Array<{ name: string; args: unknown; ctx: unknown }> = [];
const audit: Array<{ jobId: string; session?: string; name: string; ok: boolean; ms: number }> = [];
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await createSandbox({
    concurrency: 2,
    warm: { javascript: 2, python: 1 },
    onBindingCall: (e) => audit.push(e),
    bindings: {
      add: {
        description: "Adds two numbers",
        input: z.object({ a: z.number(), b: z.number() }),
        handler: async (args, ctx) => {
          calls.push({ name: "add", args, ctx });
          const { a, b } = args as { a: number; b: number };
          await new Promise((r) => setTimeout(r, 5));
          return a + b;
        },
      },
      fail: {
        input: z.object({}),
        handler: () => {
          throw new Error("upstream said no");
        },
      },
      slow: {
        input: z.object({ ms: z.number() }),
        handler: (a) => new Promise((r) => setTimeout(() => r("late"), (a as { ms: number }).ms)),
      },
      nothing: { input: z.object({}).optional(), handler: () => undefined },
    },
  });
});
afterAll(async () => {
  await sandbox.close();
});

describe("bindings in JavaScript and TypeScript guests", () => {
  it("calls a binding with validated arguments and gets its result", async () => {
    const r = await sandbox.run({
      language: "typescript",
      code: `import * as host from "isobox:host";
        export default async () => ({ sum: await host.add({ a: 2, b: 40 }), none: await host.nothing() })`,
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual({ sum: 42 });
    const last = calls.at(-1)!;
    expect(last.args).toEqual({ a: 2, b: 40 });
    expect((last.ctx as { jobId: string }).jobId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses invalid arguments before the handler runs, with the validation message", async () => {
    const before = calls.length;
    const r = await sandbox.run({
      language: "javascript",
      code: `import { add } from "isobox:host";
        export default async () => { try { await add({ a: "2" }); } catch (e) { return [e.name, e.message]; } }`,
    });
    expect(r.status).toBe("ok");
    const [name, message] = r.value as [string, string];
    expect(name).toBe("ValidationError");
    expect(message).toMatch(/a: .*expected number/);
    expect(calls.length).toBe(before);
  });

  it("passes a handler's error to the guest as its message only", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `import * as host from "isobox:host"; export default () => host.fail({})`,
    });
    expect(r.status).toBe("error");
    expect(r.error?.message).toBe("upstream said no");
    expect(r.error?.stack ?? "").not.toMatch(/capabilities\.test|dispatcher|node_modules/);
  });

  it("runs calls concurrently with Promise.all", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `import * as host from "isobox:host";
        export default async () => Promise.all(Array.from({ length: 20 }, (_, i) => host.add({ a: i, b: 1 })))`,
    });
    expect(r.value).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("gives a guest a TimeoutError when a call outlives bindingTimeoutMs, and time in a binding is wall time, not CPU", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `import * as host from "isobox:host";
        export default async () => { const ok = await host.slow({ ms: 300 }); try { await host.slow({ ms: 5000 }); } catch (e) { return [ok, e.name, e.message]; } }`,
      limits: { bindingTimeoutMs: 1000, cpuTimeMs: 200, timeoutMs: 10_000 },
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual(["late", "TimeoutError", expect.stringMatching(/within 1000 ms/)]);
    expect(r.usage.wallMs).toBeGreaterThan(1200);
    expect(r.usage.cpuMs).toBeLessThan(200);
  });

  it("ends a job stuck awaiting a binding at its wall-clock limit", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `import * as host from "isobox:host"; export default () => host.slow({ ms: 60000 })`,
      limits: { timeoutMs: 500 },
    });
    expect(r.status).toBe("timeout");
  });

  it("a job-level binding adds to and overrides the sandbox's", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `import * as host from "isobox:host"; export default async () => [await host.add({ a: 1, b: 1 }), await host.greet({ who: "x" })]`,
      bindings: {
        add: { input: z.object({ a: z.number(), b: z.number() }), handler: () => "overridden" },
        greet: { input: z.object({ who: z.string() }), handler: (a) => `hi ${(a as { who: string }).who}` },
      },
    });
    expect(r.value).toEqual(["overridden", "hi x"]);
  });

  it("an import of a binding the job was not given fails at link time, naming it", async () => {
    const r = await sandbox.run({ language: "javascript", code: `import { nope } from "isobox:host"; export default () => nope` });
    expect(r.status).toBe("error");
    expect(r.error?.message).toMatch(/nope/);
  });

  it("reports every call to the onBindingCall audit hook", async () => {
    audit.length = 0;
    const r = await sandbox.run({
      language: "javascript",
      session: "audit-session",
      code: `import * as host from "isobox:host"; export default async () => { await host.add({ a: 1, b: 2 }); try { await host.fail({}) } catch {} }`,
    });
    expect(r.status).toBe("ok");
    expect(audit.map((e) => [e.name, e.ok, e.session])).toEqual([
      ["add", true, "audit-session"],
      ["fail", false, "audit-session"],
    ]);
    expect(audit.every((e) => typeof e.ms === "number" && e.jobId.length === 36)).toBe(true);
    await sandbox.endSession("audit-session");
  });
});

describe("bindings in Python guests", () => {
  it("host.name(**args) returns the result synchronously", async () => {
    const r = await sandbox.run({
      language: "python",
      code: "from isobox import host\n[host.add(a=1, b=2), host.add({'a': 5, 'b': 5}), host.nothing()]",
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual([3, 10, null]);
  });

  it("invalid arguments raise ValidationError; handler errors raise BindingError with the message only", async () => {
    const r = await sandbox.run({
      language: "python",
      code: `from isobox import host, ValidationError, BindingError
out = []
try:
    host.add(a="x", b=1)
except ValidationError as e:
    out.append(["validation", str(e)])
try:
    host.fail()
except BindingError as e:
    out.append(["binding", str(e)])
out`,
    });
    expect(r.status).toBe("ok");
    const out = r.value as string[][];
    expect(out[0]![0]).toBe("validation");
    expect(out[0]![1]).toMatch(/expected number/);
    expect(out[1]).toEqual(["binding", "upstream said no"]);
  });

  it("an unknown binding is an AttributeError naming it; an uncaught binding error is status error", async () => {
    const unknown = await sandbox.run({ language: "python", code: "from isobox import host\nhost.nope()" });
    expect(unknown.status).toBe("error");
    expect(unknown.error?.name).toBe("AttributeError");
    expect(unknown.error?.message).toMatch(/nope/);
    const failing = await sandbox.run({ language: "python", code: "from isobox import host\nhost.fail()" });
    expect(failing.status).toBe("error");
    expect(failing.error?.name).toBe("BindingError");
  });

  it("a blocking call that outlives the job's wall clock ends in timeout", async () => {
    const r = await sandbox.run({ language: "python", code: "from isobox import host\nhost.slow(ms=60000)", limits: { timeoutMs: 800 } });
    expect(r.status).toBe("timeout");
  });

  it("a job that catches the error of a call cut short by its deadline still ends in timeout", async () => {
    const code = "from isobox import host\ntry:\n    host.slow(ms=60000)\nexcept BaseException:\n    pass\n'finished anyway'";
    const r = await sandbox.run({ language: "python", code, limits: { timeoutMs: 800 } });
    expect(r.status).toBe("timeout");
    expect(r.error?.message).toMatch(/wall-clock limit of 800 ms/);
  });

  it("time blocked in a binding counts as wall time, not CPU", async () => {
    const r = await sandbox.run({
      language: "python",
      code: "from isobox import host\n[host.slow(ms=400) for _ in range(3)]",
      limits: { cpuTimeMs: 300, timeoutMs: 10_000 },
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual(["late", "late", "late"]);
    expect(r.usage.wallMs).toBeGreaterThan(1200);
  });
});
