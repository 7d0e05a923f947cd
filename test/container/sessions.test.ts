// Sessions across backends, through the public API: one id is one guest, and the sandbox's session
// policy (max, LRU, idle timeout, maximum age) holds for container sessions as for isolate ones.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../src/index.ts";
import { describeDocker, leftovers } from "./docker.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeDocker("sessions across backends", () => {
  let sandbox: Sandbox;
  const py = (code: string, session: string) => sandbox.run({ language: "python", code, session, limits: { timeoutMs: 20_000 } });

  beforeAll(async () => {
    sandbox = await createSandbox({
      concurrency: 1,
      warm: { javascript: 1, container: 1 },
      container: { enabled: true },
      sessions: { max: 2, idleTimeoutMs: 4000, maxAgeMs: 12_000 },
    });
  }, 60_000);
  afterAll(async () => {
    await sandbox?.close();
    expect(await leftovers()).toEqual([]);
  }, 60_000);

  it("keeps a session that started in the container there, even for a run the isolate could take", async () => {
    const a = await py("import pandas as pd\nx = 41\nx", "split");
    expect(a).toMatchObject({ status: "ok", backend: "container", value: 41 });
    const b = await py("x + 1", "split");
    expect(b).toMatchObject({ status: "ok", backend: "container", value: 42 });
    const c = await py("import pandas\nx + 2", "split");
    expect(c).toMatchObject({ status: "ok", backend: "container", value: 43 });
    await sandbox.endSession("split");
  }, 90_000);

  it("rejects a run needing the container in a session that lives in the isolate, naming why", async () => {
    const a = await py("y = 1", "iso");
    expect(a).toMatchObject({ status: "ok", backend: "isolate" });
    const b = await py("import numpy\ny", "iso");
    expect(b).toMatchObject({ status: "rejected", backend: "isolate", error: { name: "SessionBackend" } });
    expect(b.error?.message).toMatch(/numpy/);
    expect((await py("y + 1", "iso")).value).toBe(2); // the session goes on
    await sandbox.endSession("iso");
  }, 60_000);

  it("holds container sessions to sessions.max, ending the least recently used idle one", async () => {
    await py("import numpy\nv = 'a'", "c-a");
    await py("import numpy\nv = 'b'", "c-b");
    await py("import numpy\nv = 'c'", "c-c"); // evicts c-a
    const a = await py("import numpy\nglobals().get('v')", "c-a");
    expect(a).toMatchObject({ status: "ok", backend: "container" });
    expect(a.value).toBeUndefined(); // a fresh guest: v is gone
    for (const id of ["c-a", "c-b", "c-c"]) await sandbox.endSession(id);
  }, 120_000);

  it("ends an idle container session after idleTimeoutMs", async () => {
    expect((await py("import numpy\nw = 5\nw", "idle")).value).toBe(5);
    await sleep(5000);
    const again = await py("import numpy\nglobals().get('w')", "idle");
    expect(again.value).toBeUndefined();
    await sandbox.endSession("idle");
  }, 90_000);
});
