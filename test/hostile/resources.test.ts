// Hostile suite, part 3: exhausting resources. CPU, memory, output, timers, host-callback abuse,
// and the caller's own kill switches (AbortSignal, close()).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../src/index.ts";
import { attack, expectHealthy, expectHostUntouched, OK_JOB } from "./helpers.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ concurrency: 2 });
});
afterAll(async () => {
  await sandbox.close();
});

const T = 1000; // timeoutMs of the jobs that are meant to run out of time
const SLACK = 1500; // how far past its limit a stopped job may still report

describe.concurrent("CPU and wall-clock exhaustion", () => {
  const cases: Array<[string, string]> = [
    ["a synchronous infinite loop", "while (true) {}"],
    ["a microtask flood (function f(){ Promise.resolve().then(f) })", "function f() { Promise.resolve().then(f); } f(); export default 1;"],
    ["a never-settling promise returned by main", "export default () => new Promise(() => {})"],
    ["a setInterval never cleared in a plain module", "setInterval(() => {}, 10); export default 'never done';"],
    ["a catastrophic regex /^(a+)+$/ on 'a'.repeat(40)+'b'", "export default () => /^(a+)+$/.test('a'.repeat(40) + 'b')"],
    ["an async loop that only ever awaits (for(;;) await null)", "export default async () => { for (;;) await null; }"],
    [
      "an infinite loop inside a timer callback after main awaited",
      "export default () => new Promise((r) => setTimeout(() => { while (true) {} }, 1))",
    ],
    ["an infinite loop inside toJSON while the result is encoded", "export default () => ({ toJSON() { for (;;) {} } })"],
    [
      "an error whose message getter loops forever while being reported",
      "export default () => { const e = new Error('m'); Object.defineProperty(e, 'message', { get() { for (;;) {} } }); throw e; }",
    ],
    ["a queueMicrotask chain that never ends", "const f = () => queueMicrotask(f); f(); export default 1;"],
  ];
  for (const [name, code] of cases) {
    it(`${name} ends with status timeout at the limit`, async () => {
      const { r } = await attack(sandbox, { code, limits: { timeoutMs: T } });
      expect(r.status).toBe("timeout");
      expect(r.error?.name).toBe("TimeoutError");
      expect(r.usage.wallMs).toBeLessThan(T + SLACK);
    });
  }
});

// Sequential, not concurrent: should one of these take the sandbox host process down, only its own
// test fails (a host crash answers every job in flight with "crashed").
describe("timer floods still firing at the deadline", () => {
  const floods: Array<[string, string]> = [
    ["10,000 setIntervals firing every millisecond", "for (let i = 0; i < 10000; i++) setInterval(() => {}, 1); export default 1;"],
    [
      "5,000 zero-delay timers that re-arm themselves",
      "for (let i = 0; i < 5000; i++) setTimeout(function f() { setTimeout(f, 0); }, 0); export default 1;",
    ],
  ];
  for (const [name, code] of floods) {
    it(`${name} ends with status timeout at the limit, without taking the host down`, async () => {
      const hostPid = sandbox.hostPid;
      const { r } = await attack(sandbox, { code, limits: { timeoutMs: T } });
      expect(r.status).toBe("timeout");
      expect(r.error?.name).toBe("TimeoutError");
      expect(r.usage.wallMs).toBeLessThan(T + SLACK);
      expect(sandbox.hostPid).toBe(hostPid);
    });
  }
});

describe("memory exhaustion", () => {
  const M = { timeoutMs: 5000, memoryMb: 32 };

  it("a growing array of objects ends with status memory", async () => {
    const { r } = await attack(sandbox, { code: "const a = []; while (true) a.push({ x: a.length, y: 'abc' + a.length });", limits: M });
    expect(r.status).toBe("memory");
    expect(r.error?.name).toBe("MemoryError");
  });

  it("an array of 1 MB strings ends with status memory", async () => {
    const { r } = await attack(sandbox, {
      code: "export default () => { const a = []; for (;;) a.push('x'.repeat(1e6) + a.length); }",
      limits: M,
    });
    expect(r.status).toBe("memory");
  });

  // One allocation V8 cannot survive is a fatal OOM. isolated-vm then parks the guest's thread
  // (onCatastrophicError) instead of aborting the process: the job ends at its deadline, the thread
  // is replaced and the host process recycled, and jobs running beside it are untouched. On a
  // starved machine the job may not even reach its cap before the deadline: a plain timeout.
  const parkedOrMemory = (r: { status: string; error?: { message: string } }) => {
    if (r.status === "memory") return;
    expect(r.status).toBe("timeout");
    expect(r.error?.message).toMatch(/wall-clock limit of \d+ ms/);
  };

  it("Array.from({ length: 1e8 }) ends with status memory (or, when V8 cannot recover, timeout with the thread replaced)", async () => {
    const { r, ms } = await attack(sandbox, {
      code: "export default () => Array.from({ length: 1e8 }, (_, i) => i).length",
      limits: { memoryMb: 32, timeoutMs: 2000 },
    });
    parkedOrMemory(r);
    expect(ms).toBeLessThan(2000 + 1000 + SLACK);
  });

  it("string doubling without flattening hits V8's string length limit: error RangeError", async () => {
    // Rope (cons) strings cost almost nothing, so V8's max string length is reached long before memory.
    const { r } = await attack(sandbox, { code: "let s = 'x'; while (true) s = s + s;", limits: M });
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ name: "RangeError", message: "Invalid string length" });
  });

  it("string doubling flattened into one 256 MB string ends with status memory (cap 32 MB)", async () => {
    const { r } = await attack(sandbox, {
      code: "export default () => { let s = 'xy'; for (let i = 0; i < 27; i++) s += s; return s.indexOf('z'); }",
      limits: M,
    });
    expect(r.status).toBe("memory");
    expect(r.value).toBeUndefined();
  });

  it("an ArrayBuffer allocation loop in the module body ends with status memory", async () => {
    const { r } = await attack(sandbox, { code: "const a = []; while (true) a.push(new ArrayBuffer(1 << 20));", limits: M });
    expect(r.status).toBe("memory");
  });

  it("a Uint8Array allocation loop in main ends with status memory", async () => {
    const { r } = await attack(sandbox, {
      code: "export default () => { const a = []; while (true) a.push(new Uint8Array(1 << 20).fill(1)); }",
      limits: M,
    });
    expect(r.status).toBe("memory");
  });

  it("new ArrayBuffer(2**31) ends with status memory", async () => {
    const { r } = await attack(sandbox, { code: "export default () => new ArrayBuffer(2 ** 31).byteLength", limits: M });
    expect(r.status).toBe("memory");
  });

  it("new Float64Array(2**28) (2 GiB) ends with status memory", async () => {
    const { r } = await attack(sandbox, { code: "export default () => new Float64Array(2 ** 28).length", limits: M });
    expect(r.status).toBe("memory");
  });

  it("a resizable ArrayBuffer grown to 256 MB and filled does not escape the 32 MB cap", async () => {
    // Either outcome is a refusal: V8 may reject the reservation/resize with a RangeError, or the
    // allocation is charged to the cap (status memory). Returning ok means host memory was used uncapped.
    const { r } = await attack(sandbox, {
      code: "export default () => { const b = new ArrayBuffer(1, { maxByteLength: 2 ** 28 }); b.resize(2 ** 28); new Uint8Array(b).fill(7); return b.byteLength; }",
      limits: M,
    });
    expect(["memory", "error"]).toContain(r.status);
    if (r.status === "error") expect(r.error?.name).toBe("RangeError");
  });

  it("structuredClone of a huge cyclic graph ends with status memory", async () => {
    const { r } = await attack(sandbox, {
      code: "export default () => { let o = {}; const root = o; for (let i = 0; i < 1e6; i++) { o.next = { i, self: root }; o = o.next; } structuredClone(root); return 'cloned'; }",
      limits: M,
    });
    expect(r.status).toBe("memory");
  });

  it("structuredClone keeps cycles and fails cleanly on functions and very deep graphs", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => {
        const a = { n: 1 }; a.self = a; const c = structuredClone(a);
        const out = [c.self === c, c !== a];
        try { structuredClone({ f() {} }); } catch (e) { out.push(e.name); }
        let d = {}; for (let i = 0; i < 1e5; i++) d = { d };
        try { structuredClone(d); out.push("deep ok"); } catch (e) { out.push(e.name); }
        return out;
      }`,
      limits: { timeoutMs: 5000, memoryMb: 64 },
    });
    expect(r).toMatchObject({ status: "ok", value: [true, true, "DataCloneError", "RangeError"] });
  });

  it("running out of memory while an error with a 10 MB message is reported neither crashes the host nor kills a concurrent job", async () => {
    const hostPid = sandbox.hostPid;
    const victim = sandbox.run({
      language: "javascript",
      code: "export default () => new Promise((r) => setTimeout(() => r('victim ok'), 800))",
      limits: { timeoutMs: 5000 },
    });
    await new Promise((r) => setTimeout(r, 100));
    const { r } = await attack(sandbox, {
      code: "export default () => { const s = 'a'.repeat(10 * 2 ** 20); s.indexOf('z'); throw new TypeError('Invalid: ' + s); }",
      limits: M,
    });
    // Genuinely ambiguous: the report may fit (error, message truncated), exhaust the cap (memory),
    // or be a fatal OOM for V8 (the thread is parked and replaced: timeout, process recycled).
    if (r.status !== "error") parkedOrMemory(r);
    const v = await victim;
    expectHostUntouched(v);
    expect(v).toMatchObject({ status: "ok", value: "victim ok" });
    if (r.status !== "timeout") expect(sandbox.hostPid).toBe(hostPid);
  });

  it("an array-of-arrays bomb (push(new Array(1000).fill(n))) ends by its deadline plus the thread grace, and a job beside it is untouched", async () => {
    // V8 can spiral in back-to-back full GCs near the heap limit without running JavaScript, where
    // no interrupt lands: the wedged-thread watchdog is what ends it (timeout), or isolated-vm's cap (memory).
    const [{ r, ms }, ok] = await Promise.all([
      attack(sandbox, {
        code: "const a = []; while (true) a.push(new Array(1000).fill(a.length));",
        limits: { timeoutMs: 2000, memoryMb: 32 },
      }),
      sandbox.run({ ...OK_JOB }),
    ]);
    parkedOrMemory(r);
    expect(ms).toBeLessThan(2000 + 1000 + SLACK);
    expect(ok).toMatchObject({ status: "ok", value: { fine: 7 } });
  });

  it("a memory bomb does not disturb a job running next to it", async () => {
    const [bomb, ok] = await Promise.all([
      attack(sandbox, { code: "const a = []; while (true) a.push({ x: a.length, y: 'abc' + a.length });", limits: M }),
      sandbox.run({ ...OK_JOB }),
    ]);
    expect(bomb.r.status).toBe("memory");
    expect(ok).toMatchObject({ status: "ok", value: { fine: 7 } });
  });

  it("infinite recursion ends with error RangeError: Maximum call stack size exceeded", async () => {
    const { r } = await attack(sandbox, { code: "function f() { return f() + 1; } export default () => f();" });
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ name: "RangeError", message: "Maximum call stack size exceeded" });
  });
});

describe("output floods", () => {
  const L = { timeoutMs: 5000, maxOutputBytes: 10000 };

  it("console.log in an endless loop ends with output_limit and keeps at most maxOutputBytes", async () => {
    const { r } = await attack(sandbox, { code: "export default () => { for (;;) console.log('spam spam spam'); }", limits: L });
    expect(r.status).toBe("output_limit");
    expect(r.error?.name).toBe("OutputLimitError");
    expect(r.stdout.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr)).toBeLessThanOrEqual(10000);
  });

  it("stdout and stderr flooded together share one maxOutputBytes budget", async () => {
    const { r } = await attack(sandbox, {
      code: "export default () => { for (let i = 0; ; i++) (i % 2 ? console.error : console.log)('x'.repeat(99)); }",
      limits: L,
    });
    expect(r.status).toBe("output_limit");
    expect(Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr)).toBeLessThanOrEqual(10000);
  });

  it("one 16 MB console.log line ends with output_limit, truncated", async () => {
    const { r } = await attack(sandbox, {
      code: "export default () => { console.log('x'.repeat(2 ** 24)); return 'unreached'; }",
      limits: L,
    });
    expect(r.status).toBe("output_limit");
    expect(r.value).toBeUndefined();
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(10000);
  });

  it("a 20 MiB return value ends with output_limit", async () => {
    const { r } = await attack(sandbox, { code: "export default () => 'x'.repeat(20 * 2 ** 20)", limits: { timeoutMs: 5000 } });
    expect(r.status).toBe("output_limit");
    expect(r.value).toBeUndefined();
    expect(r.error?.name).toBe("OutputLimitError");
  });

  it("a 1 MB return value is fine even with maxOutputBytes 10000 (the value cap is max(16 MiB, maxOutputBytes))", async () => {
    const { r } = await attack(sandbox, { code: "export default () => 'x'.repeat(1e6)", limits: L });
    expect(r.status).toBe("ok");
    expect((r.value as string).length).toBe(1e6);
  });
});

describe("timers and host-callback abuse", () => {
  it("100k setTimeout calls stop at a clear RangeError, promptly", async () => {
    const { r } = await attack(sandbox, {
      code: "export default () => { for (let i = 0; i < 100000; i++) setTimeout(() => {}, 100000); }",
    });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("RangeError");
    expect(r.error?.message).toMatch(/Too many pending timers/);
    expect(r.usage.wallMs).toBeLessThan(3000);
  });

  it("setTimeout with -1, NaN, Infinity, 2**40 and a string delay fires promptly", async () => {
    const { r } = await attack(sandbox, {
      code: "export default () => Promise.all([-1, NaN, Infinity, 2 ** 40, 'abc', undefined].map((d, i) => new Promise((r) => setTimeout(() => r(i), d))))",
      limits: { timeoutMs: 3000 },
    });
    expect(r).toMatchObject({ status: "ok", value: [0, 1, 2, 3, 4, 5] });
  });

  it("setTimeout with a string of code is refused, not evaluated", async () => {
    const { r } = await attack(sandbox, {
      code: "export default () => { setTimeout('globalThis.evaluated = 1', 0); return 'scheduled'; }",
    });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("TypeError");
  });

  it("queueMicrotask with a throwing callback fails the job with that error", async () => {
    const { r } = await attack(sandbox, {
      code: "queueMicrotask(() => { throw new SyntaxError('qm boom'); }); export default new Promise((r) => setTimeout(r, 50));",
    });
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ name: "SyntaxError", message: "qm boom" });
  });

  it("crypto.getRandomValues(new Uint8Array(1e6)) throws QuotaExceededError", async () => {
    const { r } = await attack(sandbox, { code: "export default () => crypto.getRandomValues(new Uint8Array(1e6))" });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("QuotaExceededError");
  });

  it("crypto.getRandomValues with a byteLength getter that lies (8, then 2**31) cannot make the host allocate", async () => {
    const { r } = await attack(sandbox, {
      code: `export default () => { let n = 0; const fake = Object.create(Uint8Array.prototype);
        Object.defineProperty(fake, "byteLength", { get: () => (n++ === 0 ? 8 : 2 ** 31) });
        Object.defineProperty(fake, "buffer", { get: () => new ArrayBuffer(8) });
        Object.defineProperty(fake, "byteOffset", { get: () => 0 });
        return crypto.getRandomValues(fake); }`,
    });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("RangeError");
  });

  it("crypto.getRandomValues on a Float64Array is refused", async () => {
    const { r } = await attack(sandbox, { code: "export default () => crypto.getRandomValues(new Float64Array(4))" });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("TypeMismatchError");
  });

  it("a URL with a 10 MB string is refused with TypeError: Invalid URL", async () => {
    const { r } = await attack(sandbox, {
      code: "export default () => new URL('http://x/' + 'a'.repeat(10 * 2 ** 20)).href.length",
      limits: { timeoutMs: 5000, memoryMb: 64 },
    });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("TypeError");
    expect(r.error?.message).toMatch(/^Invalid URL/);
    expect(r.error!.message.length).toBeLessThanOrEqual(64 * 1024);
  });

  it("URL setters with 3 MB values are ignored, the URL stays valid", async () => {
    const { r } = await attack(sandbox, {
      code: "export default () => { const u = new URL('http://a/p?q=1'); const big = 'b'.repeat(3 * 2 ** 20); u.pathname = big; u.search = big; u.hash = big; return u.href; }",
      limits: { timeoutMs: 5000, memoryMb: 64 },
    });
    expect(r).toMatchObject({ status: "ok", value: "http://a/p?q=1" });
  });

  it("Date and performance.now behave (monotonic, near host time)", async () => {
    const before = Date.now();
    const { r } = await attack(sandbox, {
      code: "export default async () => { const a = performance.now(); await new Promise((r) => setTimeout(r, 20)); const b = performance.now(); return { now: Date.now(), iso: new Date().toISOString(), delta: b - a, a }; }",
    });
    expect(r.status).toBe("ok");
    const v = r.value as { now: number; iso: string; delta: number; a: number };
    expect(Math.abs(v.now - before)).toBeLessThan(60_000);
    expect(v.iso).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(v.delta).toBeGreaterThanOrEqual(15);
    expect(v.a).toBeGreaterThanOrEqual(0);
  });
});

describe("the caller's kill switches", () => {
  it("an AbortSignal aborting a synchronously looping job gives killed, promptly", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const { r, ms } = await attack(sandbox, { code: "while (true) {}", signal: ac.signal, limits: { timeoutMs: 10_000 } });
    expect(r.status).toBe("killed");
    expect(ms).toBeLessThan(2000);
  });

  it("an AbortSignal aborting a job awaiting forever gives killed", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const { r, ms } = await attack(sandbox, {
      code: "export default () => new Promise(() => {})",
      signal: ac.signal,
      limits: { timeoutMs: 10_000 },
    });
    expect(r.status).toBe("killed");
    expect(ms).toBeLessThan(2000);
  });

  it("an already-aborted signal gives killed without running the guest", async () => {
    const { r } = await attack(sandbox, { code: "console.log('ran'); export default 1", signal: AbortSignal.abort() });
    expect(r.status).toBe("killed");
    expect(r.stdout).toBe("");
  });

  // Last: closes the file's sandbox (afterAll's close() is then a no-op).
  it("sandbox.close() while jobs loop or wait gives them killed; later runs are killed too", async () => {
    await expectHealthy(sandbox);
    const jobs = [
      sandbox.run({ language: "javascript", code: "while (true) {}", limits: { timeoutMs: 10_000 } }),
      sandbox.run({ language: "javascript", code: "export default () => new Promise(() => {})", limits: { timeoutMs: 10_000 } }),
      sandbox.run({ language: "javascript", code: "setInterval(() => console.log('tick'), 1)", limits: { timeoutMs: 10_000 } }),
    ];
    await new Promise((r) => setTimeout(r, 200));
    const t = performance.now();
    await sandbox.close();
    const results = await Promise.all(jobs);
    expect(performance.now() - t).toBeLessThan(3000);
    for (const r of results) {
      expectHostUntouched(r);
      expect(r.status).toBe("killed");
    }
    expect((await sandbox.run(OK_JOB)).status).toBe("killed");
  });
});
