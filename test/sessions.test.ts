// Sessions: the same id keeps the guest (variables and files) between runs; nothing else reaches it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../src/index.ts";

let sandbox: Sandbox;
beforeAll(async () => { sandbox = await createSandbox({ concurrency: 2, warm: { javascript: 1 }, sessions: { max: 3, idleTimeoutMs: 1500 } }); });
afterAll(async () => { await sandbox.close(); });

describe("sessions", () => {
  it("keeps Python variables and files between runs, and empties output/ before each run", async () => {
    const a = await sandbox.run({ language: "python", session: "py-1", code: "x = 41\nopen('notes.txt', 'w').write('kept')\nopen('output/one.txt', 'w').write('1')\nx" });
    expect(a.status).toBe("ok");
    expect(a.files.map((f) => f.path)).toEqual(["output/one.txt"]);
    const b = await sandbox.run({ language: "python", session: "py-1", code: "import os\nx += 1\n[x, open('notes.txt').read(), os.listdir('output')]" });
    expect(b.value).toEqual([42, "kept", []]);
    expect(b.files).toEqual([]);
  }, 60_000);

  it("keeps a JavaScript guest's globals and files between runs", async () => {
    await sandbox.run({ language: "javascript", session: "js-1", code: `import { writeFile } from "isobox:fs"; globalThis.count = 1; await writeFile("state.txt", "one");` });
    const r = await sandbox.run({ language: "javascript", session: "js-1", code: `import { readFile } from "isobox:fs"; export default async () => [++globalThis.count, await readFile("state.txt", "utf8")]` });
    expect(r.value).toEqual([2, "one"]);
  });

  it("a session is never reachable from another id, nor from a job without one", async () => {
    await sandbox.run({ language: "javascript", session: "owner-1", code: `globalThis.secret = "owner's";` });
    for (const session of ["owner-2", "OWNER-1", "owner-1 ", "owner", undefined]) {
      const r = await sandbox.run({ language: "javascript", ...(session !== undefined ? { session } : {}), code: `export default globalThis.secret ?? null` });
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
    for (const id of ["lru-a", "lru-b", "lru-c"]) await sandbox.run({ language: "javascript", session: id, code: `globalThis.v = "${id}";` });
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
