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

describe("createSandbox options", () => {
  it("throws on malformed sandbox options, naming the field", async () => {
    await expect(createSandbox({ concurrency: -1 })).rejects.toThrow(/concurrency/);
    await expect(createSandbox({ warm: { javascript: "2" } } as never)).rejects.toThrow(/warm\.javascript/);
  });
});

describe("job validation at the door", () => {
  it("rejects a job without code, naming the field", async () => {
    const r = await sandbox.run({ language: "javascript" } as never);
    expect(r.status).toBe("rejected");
    expect(r.error?.message).toMatch(/^code:/);
  });
  it("rejects an unknown language, an unknown field and a bad limit", async () => {
    expect((await sandbox.run({ language: "ruby", code: "" } as never)).error?.message).toMatch(/language/);
    expect((await sandbox.run({ language: "javascript", code: "", extra: 1 } as never)).error?.message).toMatch(/extra/);
    const r = await sandbox.run({ language: "javascript", code: "", limits: { timeoutMs: -5 } });
    expect(r.status).toBe("rejected");
    expect(r.error?.message).toMatch(/limits\.timeoutMs/);
  });
  it("rejects input that is not JSON-serializable", async () => {
    const input: Record<string, unknown> = {};
    input.self = input;
    const r = await sandbox.run({ language: "javascript", code: "", input: input as never });
    expect(r.status).toBe("rejected");
    expect(r.error?.message).toMatch(/^input:/);
  });
  it("rejects non-string env values and bad env names", async () => {
    expect((await sandbox.run({ language: "javascript", code: "", env: { A: 1 } as never })).status).toBe("rejected");
    expect((await sandbox.run({ language: "javascript", code: "", env: { "A=B": "x" } })).error?.message).toMatch(/env/);
  });
  it("never throws for a job: every answer is a RunResult with the full shape", async () => {
    const r = await sandbox.run(null as never);
    expect(r).toMatchObject({ status: "rejected", stdout: "", stderr: "", files: [], backend: "isolate" });
    expect(typeof r.usage.wallMs).toBe("number");
  });
});

describe("JavaScript guest conventions", () => {
  it("calls the default export as main(input, ctx) and returns its value", async () => {
    const r = await js("export default async (input, ctx) => ({ doubled: input.n * 2, id: typeof ctx.jobId })", { input: { n: 21 } });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual({ doubled: 42, id: "string" });
    expect(r.backend).toBe("isolate");
  });
  it("prefers an exported main function", async () => {
    expect((await js("export function main(i) { return i + 1 }", { input: 1 })).value).toBe(2);
  });
  it("returns a non-function default export as the value", async () => {
    expect((await js("export default { a: [1, 'two', null] }")).value).toEqual({ a: [1, "two", null] });
  });
  it("runs a module without exports and waits for its pending timers", async () => {
    const r = await js("setTimeout(() => console.log('late'), 30); console.log('early')");
    expect(r.status).toBe("ok");
    expect(r.stdout).toBe("early\nlate\n");
    expect(r.value).toBeUndefined();
  });
  it("supports top-level await", async () => {
    const r = await js("const v = await new Promise((r) => setTimeout(() => r(7), 10)); export default v * 6;");
    expect(r.value).toBe(42);
  });
  it("gives ctx.env as a frozen copy of the job's env and nothing else", async () => {
    const r = await js("export default (i, ctx) => ({ env: ctx.env, frozen: Object.isFrozen(ctx.env) })", { env: { API_KEY: "k" } });
    expect(r.value).toEqual({ env: { API_KEY: "k" }, frozen: true });
  });
  it("sends console.log/info to stdout and warn/error to stderr, formatted like Node", async () => {
    const r = await js("console.log('a', 1, { b: [2] }); console.error('oops %d', 5); console.info(null, undefined, 3n)");
    expect(r.stdout).toBe("a 1 { b: [ 2 ] }\nnull undefined 3n\n");
    expect(r.stderr).toBe("oops 5\n");
  });
  it("reports a thrown error with name, message and a stack in the guest's line numbers", async () => {
    const r = await js("const a = 1;\nfunction f() {\n  throw new TypeError('bad thing');\n}\nexport default () => f();");
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ name: "TypeError", message: "bad thing" });
    expect(r.error?.stack).toContain("main.js:3:");
    expect(r.error?.stack).not.toMatch(/node_modules|\/work\/|file:\/\//);
  });
  it("reports a syntax error with its position", async () => {
    const r = await js("let x = ;");
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("SyntaxError");
    expect(r.error?.message).toContain("main.js:1");
  });
  it("reports an error thrown after top-level await", async () => {
    const r = await js("await new Promise((r) => setTimeout(r, 5));\nthrow new RangeError('late');");
    expect(r.error).toMatchObject({ name: "RangeError", message: "late" });
  });
  it("fails a job whose timer callback throws, like an uncaught exception", async () => {
    const r = await js(
      "export default () => new Promise((res) => { setTimeout(() => { throw new Error('in timer') }, 5); setTimeout(res, 200); })",
    );
    expect(r.status).toBe("error");
    expect(r.error?.message).toBe("in timer");
  });
  it("gives a clear error naming the module for node: and bare imports", async () => {
    const r = await js("import { readFileSync } from 'node:fs';");
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("ImportError");
    expect(r.error?.message).toContain('"node:fs"');
    expect((await js("import _ from 'lodash';")).error?.message).toContain('"lodash"');
  });
  it("gives a clear ImportError for dynamic import()", async () => {
    const r = await js("export default async () => (await import('node:fs')).readFileSync");
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("ImportError");
    expect(r.error?.stack).toMatch(/^ImportError: Dynamic import\(\)/);
  });
  it("fills usage with wall time, CPU time and peak memory", async () => {
    const r = await js("let s = 0; for (let i = 0; i < 1e6; i++) s += i; export default s;");
    expect(r.usage.wallMs).toBeGreaterThan(0);
    expect(r.usage.cpuMs).toBeGreaterThan(0);
    expect(r.usage.memoryPeakBytes).toBeGreaterThan(0);
  });
});

describe("web globals a glue-code author expects", () => {
  it("provides TextEncoder/TextDecoder with UTF-8 round trips and streaming", async () => {
    const r = await js(`
      const bytes = new TextEncoder().encode("héllo €𝄞");
      const d = new TextDecoder();
      const streamed = d.decode(bytes.slice(0, 2), { stream: true }) + d.decode(bytes.slice(2));
      let fatal = "none"; try { new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xff])) } catch (e) { fatal = e.name }
      export default { len: bytes.length, back: new TextDecoder().decode(bytes), streamed, fatal, bad: new TextDecoder().decode(new Uint8Array([0x61, 0xff])) };`);
    expect(r.value).toEqual({ len: 14, back: "héllo €𝄞", streamed: "héllo €𝄞", fatal: "TypeError", bad: "a\uFFFD" });
  });
  it("provides URL and URLSearchParams with WHATWG semantics", async () => {
    const r = await js(`
      const u = new URL("../b?x=1#h", "https://user:pw@example.com:8080/a/c");
      u.searchParams.append("q", "a b&c");
      const p = new URLSearchParams({ z: "1", a: "2" }); p.sort();
      let invalid = false; try { new URL("not a url") } catch { invalid = true }
      export default { href: u.href, host: u.host, origin: u.origin, q: u.searchParams.get("q"), p: p.toString(), invalid, can: URL.canParse("https://x") };`);
    expect(r.value).toEqual({
      href: "https://user:pw@example.com:8080/b?x=1&q=a+b%26c#h",
      host: "example.com:8080",
      origin: "https://example.com:8080",
      q: "a b&c",
      p: "a=2&z=1",
      invalid: true,
      can: true,
    });
  });
  it("provides structuredClone, atob/btoa, crypto and queueMicrotask", async () => {
    const r = await js(`
      const src = { d: new Date(0), m: new Map([[1, { x: 1 }]]), s: new Set([1]) }; src.self = src;
      const c = structuredClone(src);
      const buf = crypto.getRandomValues(new Uint8Array(16));
      let order = []; queueMicrotask(() => order.push("micro")); order.push("sync");
      await null;
      export default { cyc: c.self === c, date: c.d.getTime(), map: c.m.get(1).x, set: c.s.has(1), b64: btoa("hi"), raw: atob("aGk="),
        uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()), rand: buf.some((b) => b !== 0), order };`);
    expect(r.value).toEqual({
      cyc: true,
      date: 0,
      map: 1,
      set: true,
      b64: "aGk=",
      raw: "hi",
      uuid: true,
      rand: true,
      order: ["sync", "micro"],
    });
  });
  it("has nothing of Node: no process, require, Buffer, module or global", async () => {
    const r = await js(
      "export default [typeof process, typeof require, typeof Buffer, typeof module, typeof global, typeof WebAssembly, typeof SharedArrayBuffer]",
    );
    expect(r.value).toEqual(Array(7).fill("undefined"));
  });
  it("supports setInterval/clearInterval bounded by the job", async () => {
    const r = await js(
      "let n = 0; const t = setInterval(() => { if (++n === 3) clearInterval(t) }, 1); export default await new Promise((r) => setTimeout(() => r(n), 50));",
    );
    expect(r.value).toBe(3);
  });
});

describe("TypeScript", () => {
  it("strips types with a real transpiler, including enums", async () => {
    const r = await sandbox.run({
      language: "typescript",
      code: "enum Color { Red = 1, Green }\ninterface P { x: number }\nexport default (p: P): number => p.x + Color.Green;",
      input: { x: 1 },
    });
    expect(r.status).toBe("ok");
    expect(r.value).toBe(3);
  });
  it("reports runtime errors at the user's TypeScript line", async () => {
    const code =
      "type T = {\n  a: number;\n};\n\nconst t: T = { a: 1 };\nexport default function main(): never {\n  throw new Error('ts boom ' + t.a);\n}\n";
    const r = await sandbox.run({ language: "typescript", code });
    expect(r.status).toBe("error");
    expect(r.error?.stack).toMatch(/main\.ts:7:\d+/);
  });
  it("reports a TypeScript syntax error with the user's line", async () => {
    const r = await sandbox.run({ language: "typescript", code: "const a: number = 1;\nconst b = (;\n" });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("SyntaxError");
    expect(r.error?.message).toContain("main.ts:2:");
  });
});
