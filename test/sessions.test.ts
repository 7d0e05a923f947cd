// Sessions: the same id keeps the guest (variables and files) between runs; nothing else reaches it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../src/index.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ concurrency: 2, warm: { javascript: 1 }, sessions: { max: 3, idleTimeoutMs: 1500 } });
});
afterAll(async () => {
  await sandbox.close();
});

describe("sessions", () => {
  it("keeps Python variables and files between runs, and empties output/ before each run", async () => {
    const a = await sandbox.run({
      language: "python",
      session: "py-1",
      code: "x = 41\nopen('notes.txt', 'w').write('kept')\nopen('output/one.txt', 'w').write('1')\nx",
    });
    expect(a.status).toBe("ok");
    expect(a.files.map((f) => f.path)).toEqual(["output/one.txt"]);
    const b = await sandbox.run({
      language: "python",
      session: "py-1",
      code: "import os\nx += 1\n[x, open('notes.txt').read(), os.listdir('output')]",
    });
    expect(b.value).toEqual([42, "kept", []]);
    expect(b.files).toEqual([]);
  }, 60_000);

  it("keeps a JavaScript guest's globals and files between runs", async () => {
    await sandbox.run({
      language: "javascript",
      session: "js-1",
      code: `import { writeFile } from "isobox:fs"; globalThis.count = 1; await writeFile("state.txt", "one");`,
    });
    const r = await sandbox.run({
      language: "javascript",
      session: "js-1",
      code: `import { readFile } from "isobox:fs"; export default async () => [++globalThis.count, await readFile("state.txt", "utf8")]`,
    });
    expect(r.value).toEqual([2, "one"]);
  });

  it("keeps a JavaScript run's top-level let/const/var/function/class bindings, as Python keeps globals", async () => {
    const js = (code: string, language: "javascript" | "typescript" = "javascript") => sandbox.run({ language, session: "js-vars", code });
    const a = await js(
      "let x = 41; const { a, b: [c] } = { a: 1, b: [3] }; var v = 'v'; function f() { return 'f'; } class K { static k = 'k'; } export const e = 'exported';",
    );
    expect(a.status).toBe("ok");
    const b = await js("export default () => [x + 1, a, c, v, f(), K.k, e]");
    expect(b.value).toEqual([42, 1, 3, "v", "f", "k", "exported"]);
    // Changes made inside main persist too (read at the end of the run, not at the end of the module).
    await js("let n: number = 0; export default (): void => { n += 5; };", "typescript");
    expect((await js("n += 1; export default () => n")).value).toBe(6);
    // A redeclaration shadows, and wins from then on.
    await js("const x = 'redeclared';");
    expect((await js("export default () => x")).value).toBe("redeclared");
  });

  it("a JavaScript run that throws keeps what it declared before the throw", async () => {
    const r = await sandbox.run({
      language: "javascript",
      session: "js-throw",
      code: "let early = 1; throw new Error('boom'); let late = 2;",
    });
    expect(r.status).toBe("error");
    expect(r.error?.stack).not.toMatch(/isobox:/);
    const next = await sandbox.run({
      language: "javascript",
      session: "js-throw",
      code: "export default () => [typeof early, typeof late]",
    });
    expect(next.value).toEqual(["number", "undefined"]);
  });

  it("a global setter that never returns cannot stall the end of a run (attack on the keeper)", async () => {
    const r = await sandbox.run({
      language: "javascript",
      session: "js-trap",
      code: "Object.defineProperty(globalThis, 'x', { set() { for (;;) {} }, configurable: true }); let x = 1; export default () => 'ran'",
    });
    expect(r.status).toBe("ok");
    expect(r.value).toBe("ran");
    const next = await sandbox.run({ language: "javascript", session: "js-trap", code: "export default () => 'still serving'" });
    expect(next.value).toBe("still serving");
  });

  it("a getter that never returns, put where the keeper waits, cannot stall the end of a run either", async () => {
    // Attack: find the keeper's global during the run and replace it with a looping getter.
    const code = `let y = 1;
      const name = Object.keys(globalThis).find((k) => k.startsWith("__isobox_keep_"));
      if (name) Object.defineProperty(globalThis, name, { get() { for (;;) {} }, configurable: true });
      export default () => name !== undefined;`;
    const t0 = performance.now();
    const r = await sandbox.run({ language: "javascript", session: "js-getter", code });
    expect(r).toMatchObject({ status: "ok", value: true });
    expect(performance.now() - t0).toBeLessThan(5_000);
    const next = await sandbox.run({ language: "javascript", session: "js-getter", code: "export default () => 'still serving'" });
    expect(next.value).toBe("still serving");
  });

  it("top-level bindings of a session never reach another session or a job without one", async () => {
    await sandbox.run({ language: "javascript", session: "js-own", code: "const token = 'mine';" });
    for (const session of ["js-other", undefined]) {
      const r = await sandbox.run({ language: "javascript", ...(session ? { session } : {}), code: "export default () => typeof token" });
      expect(r.value).toBe("undefined");
    }
  });

  it("a run asking a live session for another memory cap is rejected, and the session goes on", async () => {
    await sandbox.run({ language: "javascript", session: "js-mem", code: "globalThis.kept = 'yes';" });
    const other = await sandbox.run({ language: "javascript", session: "js-mem", code: "export default 1", limits: { memoryMb: 64 } });
    expect(other.status).toBe("rejected");
    expect(other.error?.message).toMatch(/^limits\.memoryMb: this session's guest was started with 128 MB/);
    const next = await sandbox.run({ language: "javascript", session: "js-mem", code: "export default () => globalThis.kept" });
    expect(next.value).toBe("yes");
  });

  it("a session is never reachable from another id, nor from a job without one", async () => {
    await sandbox.run({ language: "javascript", session: "owner-1", code: `globalThis.secret = "owner's";` });
    for (const session of ["owner-2", "OWNER-1", "owner-1 ", "owner", undefined]) {
      const r = await sandbox.run({
        language: "javascript",
        ...(session !== undefined ? { session } : {}),
        code: `export default globalThis.secret ?? null`,
      });
      expect(r.value, String(session)).toBeNull();
    }
  });

  it("endSession drops the state; the next run with the id starts fresh", async () => {
    await sandbox.run({ language: "javascript", session: "end-me", code: `globalThis.v = 1;` });
    await sandbox.endSession("end-me");
    const r = await sandbox.run({ language: "javascript", session: "end-me", code: `export default globalThis.v ?? "fresh"` });
    expect(r.value).toBe("fresh");
  });

  it("limits still apply per run, and a run a limit stopped ends its session", async () => {
    await sandbox.run({ language: "javascript", session: "limited", code: `globalThis.v = 1;` });
    const t = await sandbox.run({ language: "javascript", session: "limited", code: `while (true) {}`, limits: { timeoutMs: 300 } });
    expect(t.status).toBe("timeout");
    const r = await sandbox.run({ language: "javascript", session: "limited", code: `export default globalThis.v ?? "fresh"` });
    expect(r.error).toBeUndefined();
    expect(r.value).toBe("fresh");
  });

  it("a guest error keeps the session", async () => {
    await sandbox.run({ language: "javascript", session: "err", code: `globalThis.v = 7;` });
    expect((await sandbox.run({ language: "javascript", session: "err", code: `throw new Error("x")` })).status).toBe("error");
    expect((await sandbox.run({ language: "javascript", session: "err", code: `export default globalThis.v` })).value).toBe(7);
  });

  it("the cap on live sessions evicts the least recently used one", async () => {
    for (const id of ["lru-a", "lru-b", "lru-c"])
      await sandbox.run({ language: "javascript", session: id, code: `globalThis.v = "${id}";` });
    await sandbox.run({ language: "javascript", session: "lru-a", code: `` }); // a is now the most recent
    await sandbox.run({ language: "javascript", session: "lru-d", code: `globalThis.v = "lru-d";` });
    const b = await sandbox.run({ language: "javascript", session: "lru-b", code: `export default globalThis.v ?? "evicted"` });
    expect(b.value).toBe("evicted");
  });

  it("an idle session ends after idleTimeoutMs", async () => {
    await sandbox.run({ language: "javascript", session: "idle", code: `globalThis.v = 1;` });
    await new Promise((r) => setTimeout(r, 2000));
    const r = await sandbox.run({ language: "javascript", session: "idle", code: `export default globalThis.v ?? "expired"` });
    expect(r.value).toBe("expired");
  });

  it("a session runs one language: another is rejected with a clear message", async () => {
    await sandbox.run({ language: "javascript", session: "lang", code: `` });
    const r = await sandbox.run({ language: "python", session: "lang", code: `1` });
    expect(r.status).toBe("rejected");
    expect(r.error?.message).toMatch(/runs javascript/);
  });
});
