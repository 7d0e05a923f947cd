// The container backend over a runtime that is not Docker (fake-runtime.ts, no daemon needed): the
// seam a Kubernetes pod runtime plugs into. The backend's rules hold whatever starts the guests.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { freezeJob, type AdmittedJob } from "../../src/contract/admitted.ts";
import type { JobIO } from "../../src/contract/backend.ts";
import type { CallAnswer } from "../../src/contract/calls.ts";
import { resolveLimits, type Limits } from "../../src/contract/limits.ts";
import { memoryExceeded, outputLimit, protocolError, wallTimeout } from "../../src/contract/outcomes.ts";
import { ContainerBackend } from "../../src/container/backend.ts";
import { FakeRuntime, type FakeConnection } from "./fake-runtime.ts";

function job(code: string, extra: { session?: string; limits?: Partial<Limits> } = {}): AdmittedJob {
  return freezeJob({
    id: randomUUID(),
    language: "python",
    code,
    filename: "main.py",
    files: [],
    env: {},
    limits: resolveLimits("python", undefined, { timeoutMs: 2_000, ...extra.limits }),
    capabilities: { bindings: ["add"], mcp: {}, fetch: false },
    backend: "container",
    ...(extra.session !== undefined ? { session: extra.session } : {}),
  });
}

function io(extra: Partial<JobIO> = {}): JobIO & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    onOutput: (_fd, l) => {
      lines.push(...l);
    },
    onCall: async (): Promise<CallAnswer> => ({ ok: true, json: "42" }),
    stream: { stdout: true, stderr: true },
    signal: new AbortController().signal,
    ...extra,
  };
}

describe("container backend over another runtime", () => {
  let runtime: FakeRuntime;
  let backend: ContainerBackend | undefined;
  const make = async (warm = 0) => {
    runtime = new FakeRuntime();
    backend = await ContainerBackend.over(runtime, { warm });
    return backend;
  };
  afterEach(async () => {
    await backend?.close();
    backend = undefined;
  });

  it("reaps the runtime's orphans, pre-starts warm guests with preload, and runs a job on one", async () => {
    const b = await make(1);
    expect(runtime.reaped).toBe(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(runtime.started.map((c) => c.spec)).toEqual([{ profile: { memoryMb: 256, maxFsBytes: 64 << 20 }, preload: true }]);
    const r = await b.run(job("value:[1,2]"), io());
    expect(r).toMatchObject({ status: "ok", value: [1, 2], backend: "container", usage: { cpuMs: 1, memoryPeakBytes: 1024 } });
    expect(runtime.started[0]!.disposed).toBe(1);
  });

  it("sends the run spec every runner gets (contract/run-spec): the admitted job's files as they are, the value cap of contract/limits", async () => {
    const b = await make();
    const j = freezeJob({ ...job("value:1"), files: [{ path: "in/a.csv", bytes: new Uint8Array([104, 105]) }] });
    await b.run(j, io());
    expect(runtime.started[0]!.received[0]).toMatchObject({
      files: [{ path: "in/a.csv", base64: "aGk=" }],
      maxValueBytes: 16 << 20,
      session: false,
    });
  });

  it("stops a silent job at the wall clock in the isolate's words, killing and disposing its guest", async () => {
    const b = await make();
    const r = await b.run(job("sleep", { limits: { timeoutMs: 100 } }), io());
    expect(r).toMatchObject({ status: "timeout", error: wallTimeout(100).error });
    expect(runtime.started[0]).toMatchObject({ killed: 1, disposed: 1 });
  });

  it("takes a SIGKILL exit without a result for memory, with the exit as detail", async () => {
    const r = await (await make()).run(job("exit:137", { limits: { memoryMb: 128 } }), io());
    expect(r.error).toEqual(memoryExceeded(128, "the container was killed: exit code 137").error);
  });

  it("caps output with the one OutputCap, streaming only whole lines", async () => {
    const out = io();
    const r = await (await make()).run(job("print:30", { limits: { maxOutputBytes: 1_050 } }), out);
    expect(r).toMatchObject({ status: "output_limit", error: outputLimit(1_050).error });
    expect(r.stdout.length).toBe(1_050);
    expect(out.lines).toHaveLength(10);
  });

  it("harvests output files as the isolate does: forged names dropped, duplicates once, sorted, typed", async () => {
    const r = await (await make()).run(job("files"), io());
    expect(r.files.map((f) => [f.path, f.mimeType, Buffer.from(f.bytes).toString()])).toEqual([
      ["output/a.txt", "text/plain", "output/a.txt"],
      ["output/b.txt", "text/plain", "output/b.txt"],
    ]);
  });

  it("relays a capability call and answers it by id", async () => {
    const r = await (await make()).run(job("call"), io());
    expect(r).toMatchObject({ status: "ok", value: 42 });
    expect(runtime.started[0]!.received[1]).toEqual({ t: "answer", id: 7, answer: { ok: true, json: "42" } });
  });

  it("drops a call's answer that comes after its run ended: the session's next run never gets it", async () => {
    const b = await make();
    let answer!: (a: CallAnswer) => void;
    const late = io({
      onCall: () =>
        new Promise((resolve) => {
          answer = resolve;
        }),
    });
    const first = await b.run(job("call-late", { session: "s" }), late);
    expect(first).toMatchObject({ status: "ok", value: "answered early" });
    answer({ ok: true, json: "1" });
    await new Promise((r) => setTimeout(r, 10));
    expect((await b.run(job("value:2", { session: "s" }), io())).value).toBe(2);
    const guest = runtime.started[0]!;
    expect(guest.received.filter((m) => m.t === "answer")).toEqual([]);
    expect(runtime.started).toHaveLength(1); // one session, one guest
  });

  it("keeps a session's guest after clean runs, replaces it after a broken one, and ends it on endSession", async () => {
    const b = await make();
    await b.run(job("value:1", { session: "s" }), io());
    const forged = await b.run(job("ready", { session: "s" }), io());
    expect(forged).toMatchObject({ status: "error", error: protocolError("a forged frame").error });
    const [broken] = runtime.started as [FakeConnection];
    expect(broken.disposed).toBe(1);
    await b.run(job("value:3", { session: "s" }), io());
    const fresh = runtime.started[1]!;
    expect(fresh.disposed).toBe(0);
    await b.endSession("s");
    expect(fresh.disposed).toBe(1);
  });

  it("a session run aborted while it waits behind another is killed without touching the session's guest", async () => {
    const b = await make();
    const ac = new AbortController();
    const first = b.run(job("slow:50", { session: "q" }), io());
    const second = b.run(job("value:2", { session: "q" }), io({ signal: ac.signal }));
    ac.abort();
    expect(await first).toMatchObject({ status: "ok", value: 50 });
    expect(await second).toMatchObject({ status: "killed", error: { message: "The job was aborted before it started" } });
    expect((await b.run(job("value:3", { session: "q" }), io())).value).toBe(3);
    expect(runtime.started).toHaveLength(1);
    expect(runtime.started[0]!.received.filter((m) => m.t !== "answer")).toHaveLength(2);
  });

  it("close() kills a run in flight and disposes every guest, warm ones included, then closes the runtime", async () => {
    const b = await make(1);
    await new Promise((r) => setTimeout(r, 10));
    const pending = b.run(job("sleep", { session: "held", limits: { timeoutMs: 10_000, memoryMb: 300 } }), io());
    await new Promise((r) => setTimeout(r, 10));
    await b.close();
    backend = undefined;
    expect((await pending).status).toBe("killed");
    expect(runtime.started).toHaveLength(2);
    expect(runtime.started.map((c) => c.disposed)).toEqual([1, 1]);
    expect(runtime.closed).toBe(1);
    expect((await b.run(job("value:1"), io())).error?.name).toBe("SandboxClosed");
  });
});
