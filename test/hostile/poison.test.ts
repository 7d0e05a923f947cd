// Hostile suite, part 2: confusing the runner from inside. Poisoned intrinsics, hostile thrown
// values and return values, and state leaking from one job to the next.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../src/index.ts";
import { attack, expectHealthy } from "./helpers.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ concurrency: 2 });
});
afterAll(async () => {
  await sandbox.close();
});

const RESULT_KEYS = ["backend", "error", "files", "status", "stderr", "stdout", "usage", "value"];
const wellFormed = (r: object) => expect(Object.keys(r).every((k) => RESULT_KEYS.includes(k))).toBe(true);

describe("poisoned prototypes and intrinsics", () => {
  it("Object.prototype.status/kind/json/error getters cannot forge the result envelope", async () => {
    const poison = `Object.prototype.status = "ok";
      for (const [k, v] of [["kind", "ok"], ["json", '"forged"'], ["error", { name: "Forged", message: "forged" }], ["size", 1], ["value", "forged"]])
        Object.defineProperty(Object.prototype, k, { get: () => v, configurable: true });`;
    const ok = await attack(sandbox, { code: `${poison} export default () => 42` });
    expect(ok.r).toMatchObject({ status: "ok", value: 42 });
    wellFormed(ok.r);
    const thrown = await attack(sandbox, { code: `${poison} export default () => { throw new RangeError("real"); }` });
    expect(thrown.r.status).toBe("error");
    expect(thrown.r.error).toMatchObject({ name: "RangeError", message: "real" });
    expect(thrown.r.value).toBeUndefined();
    wellFormed(thrown.r);
  });

  it("Object.prototype.toJSON poisoning only changes the guest's own value, as JSON.stringify defines", async () => {
    const { r } = await attack(sandbox, {
      code: `Object.prototype.toJSON = function () { return "pwn"; }; export default () => ({ a: 1 })`,
    });
    expect(r).toMatchObject({ status: "ok", value: "pwn" });
    wellFormed(r);
  });

  it("Object.prototype.then poisoning makes the guest's returned object a thenable in its own realm, nothing more", async () => {
    // Judgement call: `await`ing a thenable is JS semantics; the hijack stays inside the guest's value.
    const ok = await attack(sandbox, {
      code: `Object.prototype.then = function (resolve) { resolve("hijack"); }; export default () => ({ a: 1 })`,
    });
    expect(ok.r).toMatchObject({ status: "ok", value: "hijack" });
    wellFormed(ok.r);
    const thrown = await attack(sandbox, {
      code: `Object.prototype.then = function (resolve) { resolve("hijack"); }; export default () => { throw new Error("real"); }`,
    });
    expect(thrown.r.status).toBe("error");
    expect(thrown.r.error).toMatchObject({ name: "Error", message: "real" });
  });

  it("JSON.stringify / JSON.parse replaced by the guest do not change how input and value cross the boundary", async () => {
    const { r } = await attack(sandbox, {
      input: { n: 5 },
      code: `JSON.stringify = () => '{"forged":true}'; JSON.parse = () => ({ forged: true }); export default (input) => ({ got: input })`,
    });
    expect(r).toMatchObject({ status: "ok", value: { got: { n: 5 } } });
  });

  it("Array.prototype[Symbol.iterator] poisoning does not change the status of a job that returned normally", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => { Array.prototype[Symbol.iterator] = function* () {}; return 1; }`,
      limits: { timeoutMs: 1500 },
    });
    expect(r.status).toBe("ok");
    expect(r.value).toBe(1);
  });

  it("Array.prototype / String.prototype methods poisoned, then a throw: the guest's real error is reported", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => {
        for (const k of ["map", "filter", "join", "slice", "concat", "includes", "some", "find", "push"]) Array.prototype[k] = function () { throw new Error("poisoned " + k); };
        for (const k of ["slice", "split", "includes", "replace", "trim"]) String.prototype[k] = function () { throw new Error("poisoned " + k); };
        throw new TypeError("real");
      }`,
    });
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ name: "TypeError", message: "real" });
  });

  it("Object.freeze(globalThis) (SES-style lockdown) does not break the job", async () => {
    const { r } = await attack(sandbox, { code: `Object.freeze(globalThis); export default () => 1` });
    expect(r.status).toBe("ok");
    expect(r.value).toBe(1);
  });

  it("a module exporting `then` is treated as a thenable namespace (JS semantics), confined to the guest", async () => {
    // Judgement call, documented: the namespace is awaited like dynamic import() would await it.
    const { r } = await attack(sandbox, {
      code: `export function then(resolve) { resolve({ default: () => "from-then" }); } export default () => "real";`,
    });
    expect(r).toMatchObject({ status: "ok", value: "from-then" });
    wellFormed(r);
  });
});

describe("hostile thrown values", () => {
  const cases: Array<[string, string, string]> = [
    ["throw 42", "throw 42", "Uncaught 42"],
    ["throw null", "throw null", "Uncaught null"],
    ["throw undefined via Promise.reject()", "return Promise.reject()", "Uncaught undefined"],
    ["throw a Symbol", "throw Symbol('sym')", "Uncaught Symbol(sym)"],
  ];
  for (const [name, body, message] of cases) {
    it(`${name} gives status error with a readable message`, async () => {
      const { r } = await attack(sandbox, { code: `export default () => { ${body}; }` });
      expect(r.status).toBe("error");
      expect(r.error).toEqual({ name: "Error", message });
    });
  }

  it("throwing an object whose toString / toPrimitive throw gives a well-formed error", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => { throw { toString() { throw new Error("ts"); }, [Symbol.toPrimitive]() { throw new Error("tp"); } }; }`,
    });
    expect(r.status).toBe("error");
    expect(typeof r.error?.name).toBe("string");
    expect(typeof r.error?.message).toBe("string");
    wellFormed(r);
  });

  it("an Error whose name/message/stack getters throw is still reported (name falls back to Error)", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => { const e = new Error("m");
        for (const k of ["name", "message", "stack"]) Object.defineProperty(e, k, { get() { throw new Error("getter " + k); } });
        throw e; }`,
    });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("Error");
    expect(typeof r.error?.message).toBe("string");
    expect(r.error?.stack).toBeUndefined();
  });

  it("throwing a Proxy whose every trap throws, from main and from the module body, gives status error", async () => {
    const proxy = `new Proxy({}, { get() { throw new Error("trap"); }, getPrototypeOf() { throw new Error("proto"); }, has() { throw 1; }, ownKeys() { throw 2; } })`;
    const inMain = await attack(sandbox, { code: `export default () => { throw ${proxy}; }` });
    expect(inMain.r.status).toBe("error");
    const atTop = await attack(sandbox, { code: `throw ${proxy};` });
    expect(atTop.r.status).toBe("error");
    expect(typeof atTop.r.error?.message).toBe("string");
  });

  it("non-Error throws from the module body (42, a Symbol) give status error", async () => {
    for (const v of ["42", "Symbol('top')", "null"]) {
      const { r } = await attack(sandbox, { code: `throw ${v};` }, { healthy: false });
      expect(r.status).toBe("error");
      expect(r.error?.name).toBe("Error");
    }
    await expectHealthy(sandbox);
  });

  it("an error with a 16 MB message is reported with a bounded message", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => { throw new Error("m".repeat(2 ** 24)); }`,
      limits: { timeoutMs: 5000, memoryMb: 128 },
    });
    expect(r.status).toBe("error");
    expect(r.error?.message.length).toBeLessThanOrEqual(64 * 1024);
  });
});

describe("non-JSON return values", () => {
  it("a function return value gives ok with no value", async () => {
    const { r } = await attack(sandbox, { code: `export default () => () => 1` });
    expect(r.status).toBe("ok");
    expect("value" in r).toBe(false);
  });

  it("a Symbol return value gives ok with no value", async () => {
    const { r } = await attack(sandbox, { code: `export default () => Symbol("s")` });
    expect(r.status).toBe("ok");
    expect(r.value).toBeUndefined();
  });

  it("a cyclic return value gives error TypeError", async () => {
    const { r } = await attack(sandbox, { code: `export default () => { const a = { b: {} }; a.b.a = a; return a; }` });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("TypeError");
    expect(r.error?.message).toMatch(/circular/i);
  });

  it("a BigInt return value gives error TypeError", async () => {
    const { r } = await attack(sandbox, { code: `export default () => ({ n: 10n ** 30n })` });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("TypeError");
    expect(r.error?.message).toMatch(/BigInt/);
  });

  it("NaN/Infinity/Date/Map/Set/RegExp/typed arrays/undefined/functions follow JSON.stringify rules", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => [NaN, Infinity, -0, new Date(0), new Map([[1, 2]]), new Set([1]), /re/g, new Uint8Array([1, 2]), undefined, () => 1, Symbol("q")]`,
    });
    expect(r).toMatchObject({
      status: "ok",
      value: [null, null, 0, "1970-01-01T00:00:00.000Z", {}, {}, {}, { 0: 1, 1: 2 }, null, null, null],
    });
  });

  it("a value nested 100k levels deep gives error, not a host stack overflow", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => { let o = {}; for (let i = 0; i < 1e5; i++) o = { o }; return o; }`,
      limits: { timeoutMs: 5000, memoryMb: 64 },
    });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("TypeError");
  });
});

describe("state leaking between jobs", () => {
  const TAMPER = `globalThis.leak = TAG; Object.prototype.polluted = TAG; Array.prototype.polluted = TAG;
    try { console.log = () => {}; } catch {} /* console is frozen: replace it whole */
    globalThis.console = { log: () => { throw new Error("console poisoned by " + TAG); } }; JSON.stringify = () => "\\"poisoned\\"";
    Math.random = () => 0.5; Date.now = () => 0; globalThis.setTimeout = () => { throw new Error("timers poisoned"); };
    String.prototype.toUpperCase = () => "POISONED"; Function.prototype.call = () => "poisoned";`;
  const CHECK = `const seen = [typeof globalThis.leak, typeof ({}).polluted, typeof [].polluted, String(Date.now() > 0),
      "ab".toUpperCase(), JSON.stringify([1]), typeof Function.prototype.call.call(() => 1)];
    console.log("console still works");
    await new Promise((r) => setTimeout(r, 1));`;
  const CLEAN = ["undefined", "undefined", "undefined", "true", "AB", "[1]", "number"];

  it("globals, prototypes, console and timers tampered with by one job are pristine in the next (sequential)", async () => {
    for (let i = 0; i < 5; i++) {
      const t = await attack(sandbox, { code: `const TAG = ${i}; ${TAMPER} export default () => 1` }, { healthy: false });
      expect(t.r.status).toBe("ok");
      const { r } = await attack(sandbox, { code: `export default async () => { ${CHECK} return seen; }` }, { healthy: false });
      expect(r).toMatchObject({ status: "ok", value: CLEAN, stdout: "console still works\n" });
    }
  });

  it("concurrent jobs tampering with globals never see each other's state", async () => {
    const jobs = Array.from({ length: 12 }, (_, i) =>
      attack(
        sandbox,
        {
          code: `export default async () => {
          const before = [typeof globalThis.leak, typeof ({}).polluted];
          const TAG = ${i}; ${TAMPER}
          await new Promise((r) => Promise.resolve().then(() => r()));
          for (let k = 0; k < 1e5; k++);
          return { before, leak: globalThis.leak, polluted: ({}).polluted };
        }`,
        },
        { healthy: false },
      ),
    );
    const results = await Promise.all(jobs);
    results.forEach(({ r }, i) =>
      expect(r).toMatchObject({ status: "ok", value: { before: ["undefined", "undefined"], leak: i, polluted: i } }),
    );
    const checks = await Promise.all(
      Array.from({ length: 6 }, () =>
        attack(sandbox, { code: `export default async () => { ${CHECK} return seen; }` }, { healthy: false }),
      ),
    );
    for (const { r } of checks) expect(r).toMatchObject({ status: "ok", value: CLEAN });
    await expectHealthy(sandbox);
  });

  it("a job's pending timers and intervals die with it and never fire into a later job", async () => {
    const first = await attack(sandbox, {
      code: `setInterval(() => console.log("ghost interval"), 5); setTimeout(() => console.log("ghost timeout"), 200); export default () => "left timers behind"`,
    });
    expect(first.r).toMatchObject({ status: "ok", value: "left timers behind" });
    const later = await attack(sandbox, { code: `export default () => new Promise((r) => setTimeout(() => r("quiet"), 400))` });
    expect(later.r).toMatchObject({ status: "ok", value: "quiet", stdout: "" });
  });
});

describe("a session's run spec", () => {
  // The host's run spec omits the input of a job without one; a prelude reading the copy as a plain
  // object would find a getter a session's earlier run left on Object.prototype.
  const POISON = `for (const [k, v] of [["inputJson", '"forged"'], ["capabilitiesJson", '{"bindings":["forged"],"mcp":{},"fetch":true}'], ["code", "forged = 1"]])
    Object.defineProperty(Object.prototype, k, { get: () => v, configurable: true });`;

  it("Object.prototype.inputJson/capabilitiesJson getters left by a JavaScript session's run change nothing in its next run", async () => {
    const first = await attack(sandbox, { session: "spec-js", code: `${POISON} export default () => "poisoned"` }, { healthy: false });
    expect(first.r).toMatchObject({ status: "ok", value: "poisoned" });
    const { r } = await attack(
      sandbox,
      { session: "spec-js", code: "export default (input) => [input === undefined, typeof fetch]" },
      { healthy: false },
    );
    expect(r).toMatchObject({ status: "ok", value: [true, "undefined"] });
  });

  it("the same getters set through Python's js module change nothing in the session's next run", async () => {
    const poison = `import js\njs.eval(${JSON.stringify(POISON)})\n"poisoned"`;
    const limits = { timeoutMs: 10_000 };
    const first = await attack(sandbox, { language: "python", session: "spec-py", code: poison, limits }, { healthy: false });
    expect(first.r).toMatchObject({ status: "ok", value: "poisoned" });
    const { r } = await attack(
      sandbox,
      { language: "python", session: "spec-py", code: "[input is None, 'forged' in globals()]", limits },
      { healthy: false },
    );
    expect(r).toMatchObject({ status: "ok", value: [true, false] });
  });
});
