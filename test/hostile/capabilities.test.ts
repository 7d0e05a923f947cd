// Hostile suite, capabilities and files: what a guest can try through bindings, the virtual
// filesystem's harvest and session ids. Every case names the attack; `attack()` checks the host saw
// nothing (no file, no secret, no process, no prototype pollution) and that a normal job still runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createSandbox, type Sandbox } from "../../src/index.ts";
import { attack } from "./helpers.ts";
import { pyAttack } from "./python-helpers.ts";

const seen: unknown[] = [];
let handlerRuns = 0;
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await createSandbox({
    concurrency: 2,
    warm: { javascript: 2, python: 1 },
    bindings: {
      echo: {
        input: z.record(z.string(), z.unknown()),
        handler: (args) => {
          handlerRuns++;
          seen.push(args);
          return args;
        },
      },
      merge: {
        input: z.record(z.string(), z.unknown()),
        // A careless handler: merges guest args into a plain object (the pollution a __proto__ key aims at).
        handler: (args) => {
          handlerRuns++;
          const target: Record<string, unknown> = {};
          Object.assign(target, args);
          return Object.keys(target);
        },
      },
      fnResult: { input: z.object({}), handler: () => ({ keep: 1, fn: () => "host function", nested: { alsoFn: () => 2 } }) },
      cyclic: {
        input: z.object({}),
        handler: () => {
          const o: Record<string, unknown> = {};
          o.self = o;
          return o;
        },
      },
      bigResult: { input: z.object({}), handler: () => "x".repeat(20 * 1024 * 1024) },
      reenter: {
        input: z.object({}),
        // Re-entrant: a handler that runs another sandbox job while its own caller waits.
        handler: async () => (await sandbox.run({ language: "javascript", code: "export default () => 'inner'" })).value,
      },
    },
  });
});
afterAll(async () => {
  await sandbox.close();
});

describe("binding argument tricks", () => {
  it("a __proto__ key in the arguments is refused before the handler runs", async () => {
    const before = handlerRuns;
    const { r } = await attack(sandbox, {
      code: `import * as host from "isobox:host";
        export default async () => { try { await host.merge(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')); return "called"; } catch (e) { return [e.name, e.message]; } }`,
    });
    expect(r.value).toEqual(["ValidationError", expect.stringMatching(/__proto__/)]);
    expect(handlerRuns).toBe(before);
  });

  it("a constructor/prototype key reaches the handler as plain data and pollutes nothing", async () => {
    const { r } = await attack(sandbox, {
      code: `import * as host from "isobox:host";
        export default () => host.merge({ constructor: { prototype: { polluted: true } }, prototype: { polluted: true } })`,
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual(["constructor", "prototype"]);
  });

  it("arguments nested 1,000 deep are refused by the host before the handler; 100,000 deep fail in the guest", async () => {
    const before = handlerRuns;
    const { r } = await attack(sandbox, {
      code: `import * as host from "isobox:host";
        const nest = (n) => { let v = {}; for (let i = 0; i < n; i++) v = { v }; return v; };
        export default async () => { const out = []; for (const n of [1000, 100000]) { try { await host.echo(nest(n)); } catch (e) { out.push([e.name, e.message]); } } return out; }`,
    });
    expect(r.value).toEqual([
      ["ValidationError", expect.stringMatching(/nested deeper/)],
      ["TypeError", expect.stringMatching(/JSON-serializable/)],
    ]);
    expect(handlerRuns).toBe(before);
  });

  it("huge arguments (over 8 MiB of JSON) are refused in the guest, before they cross", async () => {
    const { r } = await attack(sandbox, {
      code: `import * as host from "isobox:host";
        export default async () => { try { await host.echo({ big: "x".repeat(9 * 1024 * 1024) }); } catch (e) { return [e.name, e.message]; } }`,
      limits: { memoryMb: 128, timeoutMs: 10_000 },
    });
    expect(r.value).toEqual(["RangeError", expect.stringMatching(/larger than/)]);
  });

  it("non-JSON arguments (BigInt, cycles) fail in the guest with a TypeError; functions vanish", async () => {
    const { r } = await attack(sandbox, {
      code: `import * as host from "isobox:host";
        export default async () => {
          const out = [];
          for (const v of [{ n: 1n }, (() => { const o = {}; o.o = o; return o; })()]) { try { await host.echo(v); } catch (e) { out.push(e.name); } }
          out.push(await host.echo({ f() {}, k: 1 }));
          return out;
        }`,
    });
    expect(r.value).toEqual(["TypeError", "TypeError", { k: 1 }]);
  });

  it("the same tricks from Python: non-JSON arguments raise TypeError; positional misuse raises TypeError", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `from isobox import host
out = []
for bad in ({"s": {1, 2}}, {"f": float("nan")}):
    try:
        host.echo(**bad)
    except TypeError:
        out.append("TypeError")
try:
    host.echo(1, 2)
except TypeError:
    out.append("TypeError")
out`,
    });
    expect(r.value).toEqual(["TypeError", "TypeError", "TypeError"]);
  });
});

describe("results the host sends back", () => {
  it("functions in a handler's result never reach the guest: they vanish as in JSON", async () => {
    const { r } = await attack(sandbox, { code: `import * as host from "isobox:host"; export default () => host.fnResult({})` });
    expect(r.value).toEqual({ keep: 1, nested: {} });
  });

  it("a cyclic result is a BindingError in the guest, not a host crash", async () => {
    const { r } = await attack(sandbox, {
      code: `import * as host from "isobox:host"; export default async () => { try { await host.cyclic({}) } catch (e) { return [e.name, e.message] } }`,
    });
    expect(r.value).toEqual(["BindingError", expect.stringMatching(/not JSON/)]);
  });

  it("a result over the 16 MiB cap is refused", async () => {
    const { r } = await attack(sandbox, {
      code: `import * as host from "isobox:host"; export default async () => { try { await host.bigResult({}) } catch (e) { return e.message } }`,
    });
    expect(r.value).toMatch(/over the .* byte limit/);
  });
});

describe("call floods and re-entrancy", () => {
  it("a call flood beyond maxBindingCalls is refused after the budget; the handler ran exactly the budget", async () => {
    const before = handlerRuns;
    const { r } = await attack(sandbox, {
      code: `import * as host from "isobox:host";
        export default async () => { let ok = 0, refused = 0, msg; for (let i = 0; i < 200; i++) { try { await host.echo({ i }); ok++; } catch (e) { refused++; msg = e.message; } } return { ok, refused, msg }; }`,
      limits: { maxBindingCalls: 50 },
    });
    expect(r.value).toEqual({ ok: 50, refused: 150, msg: expect.stringMatching(/budget exhausted/) });
    expect(handlerRuns - before).toBe(50);
  });

  it("10,000 calls fired at once without awaiting are bounded in flight; the job still answers", async () => {
    const { r } = await attack(sandbox, {
      code: `import * as host from "isobox:host";
        export default async () => { const ps = []; let thrown = 0; for (let i = 0; i < 10000; i++) { try { ps.push(host.echo({ i }).catch(() => "refused")); } catch { thrown++; } } const got = await Promise.all(ps); return { thrown, sent: ps.length, ok: got.filter((g) => g !== "refused").length }; }`,
      limits: { maxBindingCalls: 100_000, timeoutMs: 20_000 },
    });
    expect(r.status).toBe("ok");
    const v = r.value as { thrown: number; sent: number; ok: number };
    expect(v.ok).toBeLessThanOrEqual(64);
    expect(v.thrown + v.sent).toBe(10000);
  });

  it("a Python loop of blocking calls is cut off at the budget with BindingError", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `from isobox import host, BindingError
n = 0
try:
    while True:
        host.echo(i=n)
        n += 1
except BindingError as e:
    msg = str(e)
[n, msg]`,
      limits: { maxBindingCalls: 30 },
    });
    expect(r.value).toEqual([30, expect.stringMatching(/budget exhausted/)]);
  });

  it("a re-entrant handler (running another job while its caller waits) answers; nothing deadlocks", async () => {
    const { r } = await attack(sandbox, { code: `import * as host from "isobox:host"; export default () => host.reenter({})` });
    expect(r.status).toBe("ok");
    expect(r.value).toBe("inner");
  });
});

describe("files: harvest and the virtual root", () => {
  it("very many output files (over 1,000) end as output_limit, not a flood to the caller", async () => {
    const { r } = await attack(sandbox, {
      code: `import { writeFile } from "isobox:fs"; export default async () => { for (let i = 0; i < 1500; i++) await writeFile("output/f" + i + ".txt", "x"); }`,
    });
    expect(r.status).toBe("output_limit");
    expect(r.files).toEqual([]);
  });

  it("a huge output file is held to maxFsBytes at write time (ENOSPC)", async () => {
    const { r } = await attack(sandbox, {
      code: `import { writeFile } from "isobox:fs"; export default async () => { try { await writeFile("output/huge.bin", new Uint8Array(8 * 1024 * 1024)); } catch (e) { return e.code; } }`,
      limits: { maxFsBytes: 1024 * 1024 },
    });
    expect(r.value).toBe("ENOSPC");
  });

  it("writing to ../../etc/passwd or /proc/self/environ in JS lands in the virtual root, never on the host", async () => {
    const { r } = await attack(sandbox, {
      code: `import * as fs from "isobox:fs";
        export default async () => { await fs.mkdir("/etc", { recursive: true }); await fs.writeFile("../../etc/passwd", "pwned"); let env; try { env = await fs.readFile("/proc/self/environ", "utf8"); } catch (e) { env = e.code; } return [await fs.readFile("/etc/passwd", "utf8"), env]; }`,
    });
    expect(r.value).toEqual(["pwned", "ENOENT"]);
  });

  it("Python writing outside /home/user stays in the interpreter's own memory filesystem", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `import os
os.makedirs("/tmp/x", exist_ok=True)
open("../../tmp/x/pwn.txt", "w").write("pwned")
open("/tmp/x/pwn.txt").read()`,
    });
    expect(r.value).toBe("pwned");
  });

  it("an output name with control characters or a traversal is reported normalised, never as such", async () => {
    const { r } = await attack(sandbox, {
      code: `import { writeFile } from "isobox:fs"; export default async () => { await writeFile("output/evil\\u001b[31m.txt", "x"); await writeFile("output/../output/ok.txt", "y"); }`,
    });
    expect(r.status).toBe("ok");
    expect(r.files.map((f) => f.path)).toEqual(["output/evil_[31m.txt", "output/ok.txt"]);
  });
});

describe("session ids", () => {
  it("guessing session ids (near misses, prefixes, unicode look-alikes) never reaches another session", async () => {
    await sandbox.run({ language: "javascript", session: "user-42-chat", code: `globalThis.token = "mine";` });
    for (const guess of ["user-42-cha", "user-42-chat\u0000", "user-42-chаt", "USER-42-CHAT", "user-42-chat/..", "user-43-chat"]) {
      const { r } = await attack(sandbox, { session: guess, code: `export default globalThis.token ?? null` });
      expect(r.value, guess).toBeNull();
    }
    const own = await sandbox.run({ language: "javascript", session: "user-42-chat", code: `export default globalThis.token` });
    expect(own.value).toBe("mine");
  });
});
