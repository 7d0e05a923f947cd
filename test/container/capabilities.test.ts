// Capabilities in escalated jobs: `from isobox import host, fetch` inside a gVisor container reaches
// the same per-job dispatcher as an isolate's calls (validation, budget, timeouts, audit hook), over
// the container's stdio. The container has no network: fetch and MCP run in this process. Every
// address here is loopback.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { createSandbox, type BindingCallEvent, type Job, type RunResult, type Sandbox } from "../../src/index.ts";
import { describeDocker, leftovers } from "./docker.ts";

const stdioServer = fileURLToPath(new URL("../fixtures/mcp-stdio-server.ts", import.meta.url));

describeDocker("capabilities in container jobs", () => {
  let sandbox: Sandbox;
  let server: Server;
  let port = 0;
  const audit: BindingCallEvent[] = [];
  const seen: unknown[] = [];
  let running = 0;
  let peak = 0;
  let started = 0;
  const py = (code: string, extra: Partial<Job> = {}): Promise<RunResult> =>
    sandbox.run({ language: "python", code, backend: "container", limits: { timeoutMs: 20_000 }, ...extra } as Job);

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ path: req.url, method: req.method }));
    });
    port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
    sandbox = await createSandbox({
      concurrency: 1,
      warm: { javascript: 1, container: 1 },
      container: { enabled: true },
      fetch: { allow: [`127.0.0.1:${port}`] },
      onBindingCall: (e) => audit.push(e),
      bindings: {
        add: {
          input: z.object({ a: z.number(), b: z.number() }),
          handler: (args) => {
            seen.push(args);
            const { a, b } = args as { a: number; b: number };
            return { sum: a + b };
          },
        },
        fail: {
          input: z.object({}),
          handler: () => {
            throw new Error("upstream said no");
          },
        },
        count: {
          input: z.object({}),
          handler: async () => {
            started++;
            running++;
            peak = Math.max(peak, running);
            await new Promise((r) => setTimeout(r, 200));
            running--;
            return started;
          },
        },
        slow: {
          input: z.object({ ms: z.number() }),
          handler: async (args) => {
            await new Promise((r) => setTimeout(r, (args as { ms: number }).ms));
            return "late";
          },
        },
      },
      mcp: { servers: { local: { command: process.execPath, args: [stdioServer] } } },
    });
  }, 60_000);
  afterAll(async () => {
    await sandbox?.close();
    server?.close();
    expect(await leftovers()).toEqual([]);
  }, 60_000);

  it("calls a binding synchronously from a numpy job, arguments validated on the host", async () => {
    const r = await py(`import numpy as np
from isobox import host, ValidationError, BindingError
out = [host.add(a=int(np.int64(2)), b=3)["sum"]]
try:
    host.add(a="x", b=1)
except ValidationError as e:
    out.append(["validation", "expected number" in str(e)])
try:
    host.fail()
except BindingError as e:
    out.append(["binding", str(e)])
out`);
    expect(r).toMatchObject({ status: "ok", backend: "container", value: [5, ["validation", true], ["binding", "upstream said no"]] });
    expect(seen).toContainEqual({ a: 2, b: 3 });
    expect(audit.filter((e) => e.name === "add").map((e) => e.ok)).toEqual([true, false]);
  });

  it("calls an MCP tool and fetches an allowed loopback URL through the host", async () => {
    const r = await py(`from isobox import host, fetch
echo = host.local.echo(text="hi", times=2)
resp = fetch("http://127.0.0.1:${port}/data?x=1")
[echo, resp.status, resp.json()]`);
    expect(r).toMatchObject({
      status: "ok",
      backend: "container",
      value: [{ text: "hihi", times: 2 }, 200, { path: "/data?x=1", method: "GET" }],
    });
  });

  it("refuses what the isolate refuses: unknown bindings, disallowed fetch, the call budget", async () => {
    const r = await py(
      `from isobox import host, fetch, FetchError, BindingError
out = []
try:
    host.nope()
except AttributeError as e:
    out.append("nope" in str(e))
try:
    fetch("http://169.254.169.254/latest/meta-data/")
except FetchError as e:
    out.append("FetchError")
n = 0
try:
    for _ in range(10):
        host.add(a=1, b=1)
        n += 1
except BindingError as e:
    out.append([n, "budget" in str(e)])
out`,
      { limits: { timeoutMs: 20_000, maxBindingCalls: 4 } },
    );
    expect(r.status).toBe("ok");
    expect(r.value).toEqual([true, "FetchError", [3, true]]);
  });

  it("a call that outlives bindingTimeoutMs raises in the guest; one that outlives the job ends in timeout", async () => {
    const slowCall = await py(
      "from isobox import host, BindingTimeout\ntry:\n    host.slow(ms=5000)\nexcept BindingTimeout as e:\n    r = str(e)\nr",
      { limits: { timeoutMs: 20_000, bindingTimeoutMs: 300 } },
    );
    expect(slowCall.status).toBe("ok");
    expect(slowCall.value).toMatch(/did not answer within 300 ms/);
    const pastDeadline = await py("from isobox import host\nhost.slow(ms=60000)", { limits: { timeoutMs: 1500 } });
    expect(pastDeadline.status).toBe("timeout");
    expect(pastDeadline.backend).toBe("container");
  });

  it("a forged call frame reaches the same dispatcher: no binding the job was not given", async () => {
    // Attack: write a call frame straight onto the protocol fd, naming a binding of nobody's.
    const r = await py(`import json, sys
import _isobox_calls
answer = json.loads(_isobox_calls.call("binding", "constructor", json.dumps({})))
answer2 = json.loads(_isobox_calls.call("binding", "__proto__", "{\\"__proto__\\": {\\"x\\": 1}}"))
[answer["ok"], answer2["ok"], answer2["name"]]`);
    expect(r.status).toBe("ok");
    expect(r.value).toEqual([false, false, "ValidationError"]);
  });

  it("a flood of forged call frames: at most 64 handlers at once, at most maxBindingCalls in all", async () => {
    // Attack: bypass the runner and write 500 call frames straight onto the protocol descriptor.
    running = 0;
    peak = 0;
    started = 0;
    const r = await py(
      `import json, os, sys, time
fd = sys.modules["_isobox_channel"]._proto
for i in range(500):
    os.write(fd, (json.dumps({"t": "call", "id": 10**6 + i, "kind": "binding", "name": "count", "args": "{}"}) + "\\n").encode())
time.sleep(1.5)
'flooded'`,
      { limits: { timeoutMs: 20_000, maxBindingCalls: 100 } },
    );
    expect(r).toMatchObject({ status: "ok", value: "flooded" });
    expect(peak).toBeLessThanOrEqual(64);
    expect(started).toBeLessThanOrEqual(100);
    expect(started).toBeGreaterThan(0);
  });

  it("threads of a job may each have a call waiting; the job's stdin is empty", async () => {
    const r = await py(`import threading
from isobox import host
results = []
def work(i):
    results.append(host.add(a=i, b=100)["sum"])
threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
import sys
[sorted(results), sys.stdin.read()]`);
    expect(r).toMatchObject({ status: "ok", value: [[100, 101, 102, 103], ""] });
  });

  it("a session thread left calling after its run never swallows the next run", async () => {
    // Attack on the channel: a background thread whose calls outlive the run that started it.
    const session = `cap-thread-${Date.now()}`;
    const a = await py(
      `import threading, time
from isobox import host
def loop():
    while True:
        try:
            host.slow(ms=20)
        except Exception:
            time.sleep(0.01)
threading.Thread(target=loop, daemon=True).start()
time.sleep(0.1)
'started'`,
      { session },
    );
    const b = await py("host.add(a=2, b=2)['sum']", { session });
    const c = await py("host.add(a=3, b=3)['sum']", { session });
    await sandbox.endSession(session);
    expect([a.value, b.status, b.value, c.value]).toEqual(["started", "ok", 4, 6]);
  });

  it("a session container keeps variables and still answers calls in every run", async () => {
    const session = `cap-session-${Date.now()}`;
    const a = await py("from isobox import host\ntotal = host.add(a=1, b=2)['sum']\ntotal", { session });
    const b = await py("total = host.add(a=total, b=10)['sum']\ntotal", { session });
    await sandbox.endSession(session);
    expect([a.value, b.value]).toEqual([3, 13]);
    expect(b.backend).toBe("container");
  });
});
