// The session registry above the backends: one id is one guest on one backend, and one policy
// (max, LRU, idle timeout, maximum age) for every backend. Fake backends: no host process, no daemon.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AdmittedJob } from "../src/contract/admitted.ts";
import type { Backend } from "../src/contract/backend.ts";
import { rejected } from "../src/contract/outcomes.ts";
import { buildResult } from "../src/contract/result.ts";
import { SessionRegistry } from "../src/sessions/registry.ts";

function fakeBackend(name: "isolate" | "container", accepts: (job: AdmittedJob) => boolean = () => true) {
  const ended: string[] = [];
  const backend: Backend = {
    name,
    accepts: (job) => (accepts(job) ? true : rejected("InvalidJob", `${name} cannot run it`)),
    run: async () => buildResult({ status: "ok", backend: name }),
    endSession: async (id) => {
      ended.push(id);
    },
    close: async () => {},
  };
  return { backend, ended };
}

const job = (session: string, over: Partial<AdmittedJob> = {}): AdmittedJob => ({
  id: "j",
  language: "python",
  code: "1",
  filename: "main.py",
  files: [],
  env: {},
  backend: "auto",
  session,
  capabilities: { bindings: [], mcp: {}, fetch: false },
  limits: {
    timeoutMs: 1000,
    cpuTimeMs: 1000,
    memoryMb: 256,
    maxOutputBytes: 1024,
    maxFsBytes: 1 << 20,
    maxBindingCalls: 10,
    bindingTimeoutMs: 1000,
  },
  ...over,
});

const policy = { max: 2, idleTimeoutMs: 60_000, maxAgeMs: 600_000 };

afterEach(() => {
  vi.useRealTimers();
});

describe("session registry", () => {
  it("sends every later run of an id to the backend its first run was routed to (no split session)", () => {
    const isolate = fakeBackend("isolate", (j) => !j.code.includes("pandas"));
    const container = fakeBackend("container");
    const reg = new SessionRegistry(policy);
    const pick = (j: AdmittedJob) => (isolate.backend.accepts(j) === true ? isolate.backend : container.backend);
    const first = reg.lease(job("s", { code: "import pandas as pd\nx = 41" }), () => pick(job("s", { code: "import pandas" })));
    expect("backend" in first && first.backend.name).toBe("container");
    if ("backend" in first) first.done();
    // The second run's code alone would go to the isolate: the session keeps it on the container.
    const second = reg.lease(job("s", { code: "x + 1" }), () => isolate.backend);
    expect("backend" in second && second.backend.name).toBe("container");
  });

  it("rejects a run its session's backend cannot take, saying why, instead of splitting it (SessionBackend)", () => {
    const isolate = fakeBackend("isolate", (j) => !j.code.includes("pandas"));
    const container = fakeBackend("container");
    // The sandbox's router: the isolate when it takes the job, else the container.
    const pick = (j: AdmittedJob) => (isolate.backend.accepts(j) === true ? isolate.backend : container.backend);
    const reg = new SessionRegistry(policy);
    const a = reg.lease(job("s", { code: "x = 41" }), () => pick(job("s", { code: "x = 41" })));
    if ("backend" in a) a.done();
    const b = reg.lease(job("s", { code: "import pandas" }), () => pick(job("s", { code: "import pandas" })));
    expect(b).toMatchObject({ status: "rejected", error: { name: "SessionBackend" } });
    expect("error" in b && b.error.message).toMatch(/lives in the isolate backend.*isolate cannot run it.*endSession/);
    const c = reg.lease(job("s", { backend: "container" }), () => isolate.backend);
    expect(c).toMatchObject({ status: "rejected", error: { name: "SessionBackend" } });
  });

  it("rejects another language or other sizes for a live session, and the session goes on", () => {
    const { backend } = fakeBackend("container");
    const reg = new SessionRegistry(policy);
    const a = reg.lease(job("s"), () => backend);
    if ("backend" in a) a.done();
    expect(reg.lease(job("s", { language: "javascript" }), () => backend)).toMatchObject({ error: { name: "SessionLanguage" } });
    expect(reg.lease(job("s", { limits: { ...job("s").limits, memoryMb: 512 } }), () => backend)).toMatchObject({
      error: { name: "SessionLimits", message: expect.stringMatching(/^limits\.memoryMb/) },
    });
    expect(reg.lease(job("s", { limits: { ...job("s").limits, maxFsBytes: 2 << 20 } }), () => backend)).toMatchObject({
      error: { name: "SessionLimits", message: expect.stringMatching(/^limits\.maxFsBytes/) },
    });
    expect("backend" in reg.lease(job("s"), () => backend)).toBe(true);
  });

  it("applies max with least-recently-used eviction of an idle session, on any backend", () => {
    const { backend, ended } = fakeBackend("container");
    const reg = new SessionRegistry(policy);
    for (const id of ["a", "b"]) {
      const l = reg.lease(job(id), () => backend);
      if ("backend" in l) l.done();
    }
    const again = reg.lease(job("a"), () => backend); // "a" is now the most recently used
    if ("backend" in again) again.done();
    reg.lease(job("c"), () => backend);
    expect(ended).toEqual(["b"]);
    expect(reg.size).toBe(2);
  });

  it("never evicts a busy session: a new one past max is rejected TooManySessions", () => {
    const { backend } = fakeBackend("isolate");
    const reg = new SessionRegistry(policy);
    reg.lease(job("a"), () => backend);
    reg.lease(job("b"), () => backend);
    expect(reg.lease(job("c"), () => backend)).toMatchObject({ status: "rejected", error: { name: "TooManySessions" } });
  });

  it("ends a session after idleTimeoutMs without a run, and after maxAgeMs however busy", async () => {
    vi.useFakeTimers();
    const { backend, ended } = fakeBackend("container");
    const reg = new SessionRegistry({ max: 4, idleTimeoutMs: 1000, maxAgeMs: 5000 });
    const idle = reg.lease(job("idle"), () => backend);
    if ("backend" in idle) idle.done();
    reg.lease(job("busy"), () => backend); // never done: busy until its age runs out
    await vi.advanceTimersByTimeAsync(1001);
    expect(ended).toEqual(["idle"]);
    await vi.advanceTimersByTimeAsync(4000);
    expect(ended).toEqual(["idle", "busy"]);
    expect(reg.size).toBe(0);
  });

  it("a later run goes where its first went when the router would send it there anyway (its default backend)", () => {
    // No container backend: `import numpy` runs on the isolate (which explains the missing module),
    // for the session's second run as for its first.
    const isolate = fakeBackend("isolate", (j) => !j.code.includes("numpy"));
    const reg = new SessionRegistry(policy);
    const first = reg.lease(job("s", { code: "import numpy" }), () => isolate.backend);
    expect("backend" in first && first.backend.name).toBe("isolate");
    if ("backend" in first) first.done();
    const second = reg.lease(job("s", { code: "import numpy" }), () => isolate.backend);
    expect("backend" in second && second.backend.name).toBe("isolate");
  });

  it("a new session the router refuses ends no other session to make room", () => {
    const { backend, ended } = fakeBackend("isolate");
    const reg = new SessionRegistry(policy);
    for (const id of ["a", "b"]) {
      const l = reg.lease(job(id), () => backend);
      if ("backend" in l) l.done();
    }
    const refused = reg.lease(job("c"), () => rejected("ContainerDisabled", "no container backend"));
    expect(refused).toMatchObject({ status: "rejected", error: { name: "ContainerDisabled" } });
    expect(ended).toEqual([]);
    expect(reg.size).toBe(2);
  });

  it("endSession of an unknown id is a no-op; of a live one, ends it on its own backend", async () => {
    const isolate = fakeBackend("isolate");
    const container = fakeBackend("container");
    const reg = new SessionRegistry(policy);
    await reg.end("nobody");
    const l = reg.lease(job("s"), () => container.backend);
    if ("backend" in l) l.done();
    await reg.end("s");
    expect(container.ended).toEqual(["s"]);
    expect(isolate.ended).toEqual([]);
  });
});
