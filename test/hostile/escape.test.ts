// Hostile suite, part 1: reaching out of the isolate. Function-constructor tricks, module loading,
// Node globals, walking the global graph, stack-trace introspection, host secrets and paths.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../src/index.ts";
import { HOST_PATH, PAYLOAD, PWN, SECRET, attack } from "./helpers.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ concurrency: 2 });
});
afterAll(async () => {
  await sandbox.close();
});

/** Every road to a Function constructor; each ends in the guest's own realm, where `process` does not exist. */
const FUNCTION_CONSTRUCTORS: Array<[string, string]> = [
  ["constructor.constructor('return process')() of a plain object", "({}).constructor.constructor"],
  ["an arrow function's constructor", "(() => {}).constructor"],
  ["an async function's constructor (AsyncFunction)", "(async () => {}).constructor"],
  ["a generator function's constructor (GeneratorFunction)", "(function* () {}).constructor"],
  ["an async generator's constructor (AsyncGeneratorFunction)", "(async function* () {}).constructor"],
  ["a class's constructor", "(class {}).constructor"],
  ["an Error object's constructor.constructor", "new TypeError('x').constructor.constructor"],
  ["console.log.constructor", "console.log.constructor"],
  ["URL.constructor", "URL.constructor"],
  ["crypto.getRandomValues.constructor", "crypto.getRandomValues.constructor"],
  [
    "setTimeout / structuredClone / performance.now / TextEncoder / atob constructors",
    "(() => { const cs = [setTimeout, structuredClone, performance.now, TextEncoder, atob].map((f) => f.constructor); return cs.every((c) => c === cs[0]) ? cs[0] : null; })()",
  ],
  [
    "new URL(..).searchParams.constructor.constructor (a host-parsed value)",
    "new URL('http://a/?q=1').searchParams.constructor.constructor",
  ],
  ["a string the host's CSPRNG callback produced (crypto.randomUUID())", "crypto.randomUUID().constructor.constructor"],
  [
    "an error object thrown by a host callback",
    `(() => { let n = 0; const fake = Object.create(Uint8Array.prototype);
      Object.defineProperty(fake, "byteLength", { get: () => (n++ === 0 ? 8 : -1) });
      try { crypto.getRandomValues(fake); } catch (e) { return e.constructor.constructor; } })()`,
  ],
  ["Reflect.construct(Function, ..) via globalThis.constructor", "((...a) => Reflect.construct(globalThis.constructor.constructor, a))"],
];

describe("Function constructor escapes", () => {
  for (const [name, expr] of FUNCTION_CONSTRUCTORS) {
    it(`${name} cannot reach Node's process`, async () => {
      const { r } = await attack(sandbox, {
        code: `export default async () => {
          const F = ${expr};
          if (typeof F !== "function") return "no constructor";
          let out = F(${JSON.stringify(PAYLOAD)})();
          if (out && typeof out.next === "function") out = out.next();
          await out;
          return "escaped";
        }`,
      });
      expect(r.status).toBe("error");
      expect(r.error).toMatchObject({ name: "ReferenceError", message: "process is not defined" });
    });
  }

  it("code built by the Function constructor runs in the guest's global scope only", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => Function("return [typeof process, typeof require, typeof Buffer, typeof module, typeof global, typeof __dirname, this === globalThis]")()`,
    });
    expect(r).toMatchObject({ status: "ok", value: ["undefined", "undefined", "undefined", "undefined", "undefined", "undefined", true] });
  });

  it("eval and new Function work inside the guest but see no host", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => [eval("1 + 1"), new Function("a", "return a * 3")(2), eval("typeof process"), (0, eval)("typeof require"),
        new Function("return typeof globalThis.process")(), (() => { try { return eval("process.env"); } catch (e) { return e.name; } })()]`,
    });
    expect(r).toMatchObject({ status: "ok", value: [2, 6, "undefined", "undefined", "undefined", "ReferenceError"] });
  });
});

describe("module loading", () => {
  it("dynamic import('node:fs') fails", async () => {
    const { r } = await attack(sandbox, {
      code: `export default async () => { const fs = await import("node:fs"); fs.writeFileSync(${PWN}, "x"); return "escaped"; }`,
    });
    expect(r.status).toBe("error");
    expect(r.error?.message).not.toBe("");
  });

  it("no dynamic import specifier resolves (node:, bare, relative, data:, http:, isobox:)", async () => {
    const { r } = await attack(sandbox, {
      code: `export default async () => {
        const loaded = [];
        for (const s of ["node:child_process", "fs", "module", "./main.js", "data:text/javascript,export default 1",
                         "https://example.com/x.js", "isobox:prelude", "isobox:entry", "isobox:user"]) {
          try { await import(s); loaded.push(s); } catch {}
        }
        return loaded;
      }`,
    });
    expect(r).toMatchObject({ status: "ok", value: [] });
  });

  it("static import fs from 'fs' fails with ImportError before any guest code runs", async () => {
    const { r } = await attack(sandbox, { code: `import fs from "fs"; fs.writeFileSync(${PWN}, "x"); export default () => "escaped";` });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("ImportError");
    expect(r.error?.message).toMatch(/Cannot import "fs"/);
  });

  it("import 'node:child_process' fails with ImportError", async () => {
    const { r } = await attack(sandbox, {
      code: `import { execSync } from "node:child_process"; export default () => execSync("touch " + ${PWN});`,
    });
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ name: "ImportError" });
    expect(r.error?.message).toMatch(/node:child_process/);
  });

  it("importing a relative file or a data: URL fails with ImportError (no module loader)", async () => {
    for (const spec of ["./secrets.js", "data:text/javascript,export default 1", "isobox:prelude"]) {
      const { r } = await attack(sandbox, { code: `import x from ${JSON.stringify(spec)}; export default () => x;` }, { healthy: false });
      expect(r.status).toBe("error");
      expect(r.error?.name).toBe("ImportError");
    }
  });

  it("require('fs') does not exist", async () => {
    const { r } = await attack(sandbox, { code: `export default () => require("fs").writeFileSync(${PWN}, "x")` });
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ name: "ReferenceError", message: "require is not defined" });
  });

  it("import.meta carries no host path", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => JSON.stringify({ keys: Reflect.ownKeys(import.meta).map(String), url: import.meta.url, meta: import.meta })`,
    });
    expect(r.status).toBe("ok");
    expect(String(r.value)).not.toMatch(HOST_PATH);
  });
});

describe("Node globals and the global object graph", () => {
  it("typeof process/require/Buffer/module/global/__dirname/__filename/exports is 'undefined' at top level and in main", async () => {
    const probe = `[typeof process, typeof require, typeof Buffer, typeof module, typeof global, typeof __dirname, typeof __filename, typeof exports, typeof setImmediate]`;
    const { r } = await attack(sandbox, { code: `const top = ${probe}; export default () => ({ top, main: ${probe} })` });
    const none = Array(9).fill("undefined");
    expect(r).toMatchObject({ status: "ok", value: { top: none, main: none } });
  });

  it("walking every global, property, accessor and prototype finds nothing like process/require/binding/ivm/Reference", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => {
        const bad = /^(process|require|binding|_linkedBinding|linkedBinding|ivm|Reference|ExternalReference|ExternalCopy|Callback|Isolate|Context|Script|NativeModule|module|exports|Buffer|__dirname|__filename|mainModule|dlopen)$/;
        const hits = [];
        const seen = new Set();
        const visit = (obj, path, depth) => {
          if (obj === null || (typeof obj !== "object" && typeof obj !== "function") || seen.has(obj) || depth > 6) return;
          seen.add(obj);
          let keys = [];
          try { keys = Reflect.ownKeys(obj); } catch {}
          for (const k of keys) {
            const name = typeof k === "symbol" ? (k.description || "") : k;
            if (bad.test(name) || /isobox|isolated|ivm/i.test(name)) hits.push(path + "." + name);
            let d;
            try { d = Object.getOwnPropertyDescriptor(obj, k); } catch {}
            if (d) { visit(d.value, path + "." + name, depth + 1); visit(d.get, path + "." + name + "<get>", depth + 1); visit(d.set, path + "." + name + "<set>", depth + 1); }
          }
          let proto;
          try { proto = Object.getPrototypeOf(obj); } catch {}
          visit(proto, path + ".__proto__", depth + 1);
        };
        visit(globalThis, "globalThis", 0);
        for (const v of [console, crypto, performance, new URL("http://a/?b=1"), new URL("http://a/").searchParams, new TextEncoder(), new TextDecoder()]) visit(v, "instance", 0);
        return { hits, count: seen.size, globals: Object.getOwnPropertyNames(globalThis) };
      }`,
    });
    expect(r.status).toBe("ok");
    const v = r.value as { hits: string[]; count: number; globals: string[] };
    expect(v.hits).toEqual([]);
    expect(v.count).toBeGreaterThan(300); // the walk really covered the graph
    for (const g of ["console", "URL", "crypto", "setTimeout", "structuredClone", "TextEncoder", "atob", "performance", "queueMicrotask"])
      expect(v.globals).toContain(g);
    for (const g of ["process", "require", "global", "Buffer", "WebAssembly", "SharedArrayBuffer", "setImmediate", "fetch"])
      expect(v.globals).not.toContain(g);
  });

  it("the only isobox internal on globalThis is the one-shot entry hook, visible only during module evaluation; calling it early cannot forge the result", async () => {
    // Documented behaviour: while the module body runs, globalThis has one non-enumerable
    // `__isobox_entry_<24 hex>` function (the runner's entry hook). It deletes itself on first call,
    // so a guest calling it with a fake namespace makes the real entry fail: status "error".
    const seen = await attack(sandbox, {
      code: `const top = Object.getOwnPropertyNames(globalThis).filter((n) => /isobox/i.test(n));
        export default () => ({ top, main: Object.getOwnPropertyNames(globalThis).filter((n) => /isobox/i.test(n)) })`,
    });
    expect(seen.r.status).toBe("ok");
    const v = seen.r.value as { top: string[]; main: string[] };
    expect(v.top).toHaveLength(1);
    expect(v.top[0]).toMatch(/^__isobox_entry_[0-9a-f]{24}$/);
    expect(v.main).toEqual([]);

    const forged = await attack(sandbox, {
      code: `const hook = Object.getOwnPropertyNames(globalThis).find((n) => n.startsWith("__isobox"));
        globalThis[hook]({ default: () => "forged" });
        export default () => "real";`,
    });
    expect(forged.r.status).toBe("error");
    expect(forged.r.value).toBeUndefined();
    expect(forged.r.error?.name).toBe("TypeError");
  });

  it("typeof WebAssembly is 'undefined' and AsyncFunction/GeneratorFunction/eval cannot bring it back", async () => {
    const { r } = await attack(sandbox, {
      code: `export default async () => {
        const AF = Object.getPrototypeOf(async function () {}).constructor;
        const GF = Object.getPrototypeOf(function* () {}).constructor;
        return [typeof WebAssembly, await new AF("return typeof globalThis.WebAssembly")(), GF("yield typeof WebAssembly")().next().value,
          (() => { try { return typeof eval("WebAssembly"); } catch (e) { return e.name; } })(),
          Reflect.ownKeys(globalThis).filter((k) => /wasm|webassembly/i.test(String(k))).length];
      }`,
    });
    expect(r).toMatchObject({ status: "ok", value: ["undefined", "undefined", "undefined", "ReferenceError", 0] });
  });

  it("SharedArrayBuffer is absent and cannot be recovered", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => [typeof SharedArrayBuffer, "SharedArrayBuffer" in globalThis,
        Function("return typeof SharedArrayBuffer")(), Object.getPrototypeOf(new Int32Array(1).buffer).constructor.name,
        structuredClone(new Int32Array(4)).buffer.constructor.name]`,
    });
    expect(r).toMatchObject({ status: "ok", value: ["undefined", false, "undefined", "ArrayBuffer", "ArrayBuffer"] });
  });

  it("Atomics.wait / waitAsync throw and cannot be deleted, redefined or reassigned", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => {
        const out = [];
        try { delete Atomics.wait; } catch (e) { out.push(e.name); }
        try { Object.defineProperty(Atomics, "wait", { value: () => "ok" }); } catch (e) { out.push(e.name); }
        try { Atomics.wait = () => "ok"; } catch (e) { out.push(e.name); }
        try { Atomics.waitAsync(new Int32Array(4), 0, 0); } catch (e) { out.push(e.message); }
        return out;
      }`,
    });
    expect(r).toMatchObject({
      status: "ok",
      value: ["TypeError", "TypeError", "TypeError", "Atomics.waitAsync is not available in the sandbox"],
    });
  });

  it("Atomics.wait on a regular Int32Array throws instead of blocking the thread", async () => {
    const { r, ms } = await attack(sandbox, {
      code: `export default () => Atomics.wait(new Int32Array(4), 0, 0, 60000)`,
      limits: { timeoutMs: 3000 },
    });
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ name: "TypeError", message: "Atomics.wait is not available in the sandbox" });
    expect(ms).toBeLessThan(2000);
  });
});

describe("introspection: stacks, callers and host paths", () => {
  it("Error.prepareStackTrace CallSites give no function or receiver and name only guest/prelude files", async () => {
    const { r } = await attack(sandbox, {
      code: `Error.prepareStackTrace = (e, sites) => sites.map((s) => ({ file: s.getFileName(), fn: typeof s.getFunction(), self: typeof s.getThis(), eval: s.isEval() }));
        export default () => new Promise((resolve) => setTimeout(() => resolve([new Error("sync").stack, (() => { try { null.x; } catch (e) { return e.stack; } })()]), 1));`,
    });
    expect(r.status).toBe("ok");
    const frames = (r.value as Array<Array<{ file: string | null; fn: string; self: string }>>).flat();
    expect(frames.length).toBeGreaterThan(1);
    for (const f of frames) {
      expect(f.fn).toBe("undefined");
      expect(f.self).toBe("undefined");
      expect(["main.js", "isobox:prelude", null]).toContain(f.file);
    }
  });

  it("Error.prepareStackTrace that throws or returns hostile objects does not break error reporting", async () => {
    const a = await attack(sandbox, {
      code: `Error.prepareStackTrace = () => { throw new Error("pst"); }; export default () => { throw new Error("real"); }`,
    });
    expect(a.r.status).toBe("error");
    expect(a.r.error).toMatchObject({ name: "Error", message: "real" });
    const b = await attack(sandbox, {
      code: `Error.prepareStackTrace = () => ({ toString() { throw 1; } }); export default () => { throw new RangeError("real2"); }`,
    });
    expect(b.r.status).toBe("error");
    expect(b.r.error).toMatchObject({ name: "RangeError", message: "real2" });
  });

  it("a sloppy function's .caller, called back by the prelude (main, timer, thenable), is null", async () => {
    const { r } = await attack(sandbox, {
      code: `globalThis.log = [];
        globalThis.probe = new Function("return function probe(resolve) { log.push(String(probe.caller)); if (typeof resolve === 'function') resolve(log); }")();
        setTimeout(probe, 1);
        export default new Function("input", "ctx", "log.push(String(arguments.callee.caller)); return new Promise((r) => setTimeout(() => r({ then: probe }), 5));");`,
    });
    expect(r).toMatchObject({ status: "ok", value: ["null", "null", "null"] });
  });

  it("errors thrown by host callbacks (URL href setter, getRandomValues) carry no host file paths", async () => {
    // The host's TypeError/RangeError is copied into the isolate with its host stack; neither the guest
    // nor the caller may learn host paths (src/isolate/stack.ts names this threat).
    const { r } = await attack(sandbox, {
      code: `export default () => {
        const stacks = [];
        try { new URL("http://a/").href = "not a url"; } catch (e) { stacks.push(String(e.stack)); }
        let n = 0; const fake = Object.create(Uint8Array.prototype);
        Object.defineProperty(fake, "byteLength", { get: () => (n++ === 0 ? 8 : -1) });
        try { crypto.getRandomValues(fake); } catch (e) { stacks.push(String(e.stack)); }
        return stacks;
      }`,
    });
    expect(r.status).toBe("ok");
    expect(r.value).toHaveLength(2);
    for (const s of r.value as string[]) expect(s).not.toMatch(HOST_PATH);
    const thrown = await attack(sandbox, { code: `export default () => { new URL("http://a/").href = "not a url"; }` });
    expect(thrown.r.status).toBe("error");
    expect(thrown.r.error?.name).toBe("TypeError");
    expect(JSON.stringify(thrown.r)).not.toMatch(HOST_PATH);
  });

  it("guest error stacks returned to the caller name no host file", async () => {
    const { r } = await attack(sandbox, {
      code: `function deep(n) { return n ? deep(n - 1) : Promise.reject(new Error("deep")); } export default () => deep(50);`,
    });
    expect(r.status).toBe("error");
    expect(r.error?.stack).toMatch(/main\.js/);
    expect(JSON.stringify(r)).not.toMatch(HOST_PATH);
  });
});

describe("host environment and data crossing the boundary", () => {
  it("host process.env secrets are not visible anywhere a guest can look", async () => {
    expect(process.env.ISOBOX_TEST_SECRET).toBe(SECRET);
    const { r } = await attack(sandbox, {
      code: `export default (input, ctx) => {
        const found = [];
        const scan = (v, where) => { try { if (JSON.stringify(v)?.includes("s3cr3t-")) found.push(where); } catch {} };
        scan(ctx, "ctx");
        for (const k of Reflect.ownKeys(globalThis)) { try { scan(globalThis[k], String(k)); } catch {} }
        console.log(JSON.stringify(ctx));
        return { found, env: ctx.env };
      }`,
    });
    expect(r).toMatchObject({ status: "ok", value: { found: [], env: {} } });
  });

  it("ctx.env is exactly the job's env and frozen; writes throw", async () => {
    const { r } = await attack(sandbox, {
      env: { A: "1" },
      code: `export default (input, ctx) => {
        const out = { env: { ...ctx.env }, keys: Object.keys(ctx), frozen: Object.isFrozen(ctx.env) && Object.isFrozen(ctx), errors: [] };
        try { ctx.env.ISOBOX_TEST_SECRET = "x"; } catch (e) { out.errors.push(e.name); }
        try { ctx.env.A = "2"; } catch (e) { out.errors.push(e.name); }
        try { delete ctx.env.A; } catch (e) { out.errors.push(e.name); }
        try { ctx.env = {}; } catch (e) { out.errors.push(e.name); }
        out.after = { ...ctx.env };
        return out;
      }`,
    });
    expect(r).toMatchObject({
      status: "ok",
      value: {
        env: { A: "1" },
        keys: ["jobId", "env"],
        frozen: true,
        errors: ["TypeError", "TypeError", "TypeError", "TypeError"],
        after: { A: "1" },
      },
    });
  });

  it("ctx.env tampering (via Object.prototype) does not leak into the next job's env", async () => {
    await attack(sandbox, {
      env: { A: "1" },
      code: `Object.prototype.B = "leak"; Object.defineProperty(Object.prototype, "A", { get: () => "evil" }); export default (i, ctx) => ctx.env.A`,
    });
    const { r } = await attack(sandbox, {
      env: { C: "3" },
      code: `export default (i, ctx) => [JSON.stringify(ctx.env), ctx.env.A, ctx.env.B, ({}).B]`,
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual(['{"C":"3"}', null, null, null]);
  });

  it("an input with a __proto__ key is an own property in the guest and pollutes nothing on the host", async () => {
    const input = JSON.parse('{"__proto__": {"polluted": 1}, "a": {"__proto__": {"polluted": 2}}}');
    const { r } = await attack(sandbox, {
      input,
      code: `export default (input) => [Object.hasOwn(input, "__proto__"), Object.getPrototypeOf(input) === Object.prototype,
        input.polluted ?? null, ({}).polluted ?? null, Object.keys(input), input.__proto__.polluted]`,
    });
    expect(r).toMatchObject({ status: "ok", value: [true, true, null, null, ["__proto__", "a"], 1] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a guest returning {"__proto__": {...}} gives the host an own __proto__ key only', async () => {
    const { r } = await attack(sandbox, { code: `export default () => JSON.parse('{"__proto__": {"x": 1, "polluted": true}, "y": 2}')` });
    expect(r.status).toBe("ok");
    const v = r.value as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(["__proto__", "y"]);
    expect(Object.getOwnPropertyDescriptor(v, "__proto__")?.value).toEqual({ x: 1, polluted: true });
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(v.x).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("a guest cannot reach the host through values it returns (functions, getters, Proxies, symbols)", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => ({
        fn: () => 1,
        get trap() { return "getter-ran"; },
        proxy: new Proxy({}, { ownKeys: () => ["k"], get: (t, k) => (k === "k" ? "p" : undefined),
          getOwnPropertyDescriptor: () => ({ value: "p", enumerable: true, configurable: true }) }),
        [Symbol("s")]: 1,
        sym: Symbol("x"),
      })`,
    });
    expect(r.status).toBe("ok");
    // JSON.stringify rules, applied in the guest: function/symbol values dropped, getter and proxy read there.
    expect(r.value).toEqual({ trap: "getter-ran", proxy: { k: "p" } });
  });
});
