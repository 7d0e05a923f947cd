// The container backend through the public API: same result shape as the isolate, backend "container".
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSandbox, IsoboxError, RunResultSchema, type Job, type RunResult, type Sandbox } from "../../src/index.ts";
import { DockerRuntime } from "../../src/container/docker.ts";
import { outputLimit, wallTimeout } from "../../src/contract/outcomes.ts";
import { describeDocker, leftovers } from "./docker.ts";

describeDocker("container backend", () => {
  let sandbox: Sandbox;
  const py = async (code: string, extra: Partial<Job> = {}): Promise<RunResult> => {
    const r = await sandbox.run({ language: "python", code, backend: "container", limits: { timeoutMs: 20_000 }, ...extra } as Job);
    expect(RunResultSchema.safeParse(r).success).toBe(true);
    return r;
  };

  beforeAll(async () => {
    sandbox = await createSandbox({ concurrency: 1, warm: { javascript: 1, container: 1 }, container: { enabled: true } });
  }, 60_000);
  afterAll(async () => {
    await sandbox?.close();
    expect(await leftovers()).toEqual([]);
  }, 60_000);

  it("returns the last expression's value, streams print per line, and says backend: container", async () => {
    const lines: string[] = [];
    const r = await py("print('a')\nprint('b', end='')\nx = input['n']\nx * 2", { input: { n: 21 }, onStdout: (l) => lines.push(l) });
    expect(r).toMatchObject({ status: "ok", value: 42, stdout: "a\nb", backend: "container" });
    expect(lines).toEqual(["a", "b"]);
  });

  it("reports an uncaught exception as error with the job's own traceback", async () => {
    const r = await py("def f():\n    raise ValueError('bad')\nf()");
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("ValueError");
    expect(r.error?.stack).toContain('File "main.py", line 2, in f');
    expect(r.error?.stack).not.toContain("runner.py");
  });

  it("treats sys.exit(0) as ok and sys.exit(3) as an error; top-level await works", async () => {
    expect((await py("import sys\nsys.exit(0)")).status).toBe("ok");
    expect((await py("import sys\nsys.exit(3)")).error).toMatchObject({ name: "SystemExit", message: "exit code 3" });
    expect((await py("import asyncio\nawait asyncio.sleep(0.01)\n'done'")).value).toBe("done");
  });

  it("runs numpy and pandas, and auto-routes a job importing them to the container", async () => {
    const r = await sandbox.run({
      language: "python",
      code: "import numpy as np, pandas as pd\ndf = pd.DataFrame({'a': np.arange(5)})\nint(df['a'].sum())",
      limits: { timeoutMs: 20_000 },
    });
    expect(r).toMatchObject({ status: "ok", value: 10, backend: "container" });
    const plain = await sandbox.run({ language: "python", code: "import json\njson.dumps([1])", limits: { timeoutMs: 20_000 } });
    expect(plain).toMatchObject({ status: "ok", value: "[1]", backend: "isolate" });
  });

  it("gives the job its files under /home/user and returns output/ files with MIME types", async () => {
    const r = await py(
      "import os\ndata = open('in/data.csv').read()\nos.makedirs('output/sub', exist_ok=True)\nopen('output/sub/copy.csv','w').write(data.upper())\nopen('output/raw.bin','wb').write(bytes([0,1,2]))\nos.getcwd()",
      {
        files: { "in/data.csv": "a,b\n1,2\n" },
      },
    );
    expect(r.status).toBe("ok");
    expect(r.value).toBe("/home/user");
    const byPath = Object.fromEntries(r.files.map((f) => [f.path, f]));
    expect(Buffer.from(byPath["output/sub/copy.csv"]!.bytes).toString()).toBe("A,B\n1,2\n");
    expect(byPath["output/sub/copy.csv"]!.mimeType).toBe("text/csv");
    expect([...byPath["output/raw.bin"]!.bytes]).toEqual([0, 1, 2]);
  });

  it("saves matplotlib figures left open as output/chart-N.png", async () => {
    const r = await py("import matplotlib.pyplot as plt\nplt.plot([1,2,3])\nplt.figure()\nplt.bar([1],[2])");
    expect(r.status).toBe("ok");
    expect(r.files.map((f) => [f.path, f.mimeType])).toEqual([
      ["output/chart-1.png", "image/png"],
      ["output/chart-2.png", "image/png"],
    ]);
    expect(Buffer.from(r.files[0]!.bytes).subarray(1, 4).toString()).toBe("PNG");
  });

  it("shows the job only its own env in os.environ", async () => {
    const r = await py("import os\ndict(os.environ)", { env: { GREETING: "hi" } });
    expect(r.value).toEqual({ GREETING: "hi" });
  });

  it("keeps a session's globals and files between runs, empties output/ before each run, and ends it", async () => {
    const session = `s-${Math.random()}`;
    const first = await py("counter = 1\nopen('notes.txt','w').write('kept')\nopen('output/one.txt','w').write('1')\ncounter", { session });
    expect(first).toMatchObject({ status: "ok", value: 1 });
    expect(first.files.map((f) => f.path)).toEqual(["output/one.txt"]);
    const second = await py("counter += 1\n[counter, open('notes.txt').read()]", { session });
    expect(second).toMatchObject({ status: "ok", value: [2, "kept"], files: [] });
    const other = await py("'counter' in globals()", { session: `${session}-other` });
    expect(other.value).toBe(false);
  });

  it("a run asking a session container for another memory or file size is rejected; the session goes on", async () => {
    const session = `sz-${Math.random()}`;
    await py("state = 'kept'", { session });
    const mem = await py("1", { session, limits: { timeoutMs: 20_000, memoryMb: 512 } });
    expect(mem).toMatchObject({ status: "rejected", backend: "container" });
    expect(mem.error?.message).toMatch(/^limits\.memoryMb: this session's guest was started with 256 MB/);
    const fs = await py("1", { session, limits: { timeoutMs: 20_000, maxFsBytes: 1 << 20 } });
    expect(fs.error?.message).toMatch(/^limits\.maxFsBytes: /);
    expect((await py("state", { session })).value).toBe("kept");
    await sandbox.endSession(session);
  });

  it("stops a job past its timeout (status timeout) and removes its container", async () => {
    const t = performance.now();
    const r = await py("import time\nprint('start', flush=True)\ntime.sleep(60)", { limits: { timeoutMs: 1_500 } });
    expect(r.status).toBe("timeout");
    expect(r.stdout).toBe("start\n");
    expect(r.error).toEqual(wallTimeout(1_500).error); // the isolate's name and wording
    expect(performance.now() - t).toBeLessThan(10_000);
  });

  it("answers killed when the job's signal aborts", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const r = await py("while True: pass", { signal: ac.signal });
    expect(r.status).toBe("killed");
  });

  it("reports output_limit when stdout passes maxOutputBytes, keeping what fits", async () => {
    const r = await py("while True: print('x' * 99)", { limits: { timeoutMs: 20_000, maxOutputBytes: 10_000 } });
    expect(r.status).toBe("output_limit");
    expect(r.stdout.length).toBe(10_000);
    expect(r.error).toEqual(outputLimit(10_000).error);
  });

  it("runs a job with other limits in its own cold container", async () => {
    const r = await py("sum(range(10))", { limits: { timeoutMs: 20_000, memoryMb: 300 } });
    expect(r).toMatchObject({ status: "ok", value: 45 });
  });
});

describeDocker("container backend lifecycle", () => {
  it("kills pending jobs on close() and leaves no container behind", async () => {
    const sandbox = await createSandbox({ concurrency: 1, warm: { javascript: 1, container: 1 }, container: { enabled: true } });
    const pending = sandbox.run({ language: "python", code: "import time\ntime.sleep(30)", backend: "container", session: "held" });
    await new Promise((r) => setTimeout(r, 1_000));
    await sandbox.close();
    expect((await pending).status).toBe("killed");
    expect(await leftovers()).toEqual([]);
  }, 60_000);

  it("fails createSandbox with a clear message when the image does not exist", async () => {
    await expect(createSandbox({ container: { enabled: true, image: "isobox-python:does-not-exist" } })).rejects.toThrow(
      /npm run build:image/,
    );
  });

  it("names what the daemon lacks with an IsoboxError code: NO_IMAGE, NO_RUNTIME", async () => {
    await expect(DockerRuntime.create({ image: "isobox-python:does-not-exist" })).rejects.toMatchObject({
      name: "IsoboxError",
      code: "NO_IMAGE",
    });
    await expect(DockerRuntime.create({ runtime: "no-such-runtime" as "runsc" })).rejects.toMatchObject({
      code: "NO_RUNTIME",
      message: /no "no-such-runtime" runtime/,
    });
  });
});

it("fails with IsoboxError NO_DOCKER when no daemon answers at the socket", async () => {
  const e = await DockerRuntime.create({ socketPath: "/nonexistent/docker.sock" }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(IsoboxError);
  expect(e).toMatchObject({ code: "NO_DOCKER", message: /no Docker daemon at \/nonexistent\/docker\.sock/ });
});

it("rejects backend: container when the container backend is not enabled", async () => {
  const sandbox = await createSandbox({ concurrency: 1, warm: { javascript: 0 } });
  try {
    const r = await sandbox.run({ language: "python", code: "1", backend: "container" });
    expect(r.status).toBe("rejected");
    expect(r.error?.message).toMatch(/container backend is not enabled/);
  } finally {
    await sandbox.close();
  }
});
