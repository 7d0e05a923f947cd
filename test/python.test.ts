import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../src/index.ts";
import { pythonSnapshotFile } from "../src/python/snapshot-file.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ concurrency: 2, warm: { javascript: 0, python: 2 } });
}, 60_000);
afterAll(async () => {
  await sandbox.close();
});

const py = (code: string, extra: Record<string, unknown> = {}) => sandbox.run({ language: "python", code, ...extra });

describe("Python jobs (Pyodide inside an isolate)", () => {
  it("gives the value of the last expression and streams print() per line", async () => {
    const lines: string[] = [];
    const r = await py("print('a')\nprint('b\\nc')\n{'sum': input['x'] + 1, 'items': [1, 'two', None]}", {
      input: { x: 41 },
      onStdout: (l: string) => lines.push(l),
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual({ sum: 42, items: [1, "two", null] });
    expect(r.stdout).toBe("a\nb\nc\n");
    expect(lines).toEqual(["a", "b", "c"]);
    expect(r.backend).toBe("isolate");
  });
  it("has no value when the last statement is not an expression, or the value is not JSON-able", async () => {
    expect((await py("x = 1")).value).toBeUndefined();
    const r = await py("object()");
    expect(r.status).toBe("ok");
    expect(r.value).toBeUndefined();
  });
  it("reports an uncaught exception with its class name and a traceback of the job's own frames", async () => {
    const r = await py("def f():\n    raise KeyError('missing')\n\nf()");
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("KeyError");
    expect(r.error?.stack).toContain('File "main.py", line 2, in f');
    expect(r.error?.stack).not.toMatch(/_pyodide|runner|isobox/);
  });
  it("treats sys.exit(0) as ok and a non-zero exit as an error", async () => {
    expect((await py("import sys\nprint('bye')\nsys.exit(0)")).status).toBe("ok");
    const r = await py("import sys; sys.exit(2)");
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("SystemExit");
  });
  it("supports top-level await and asyncio with host-driven timers", async () => {
    const r = await py(
      "import asyncio\nasync def g(n):\n    await asyncio.sleep(0.02)\n    return n * 2\nawait asyncio.gather(g(1), g(2))",
    );
    expect(r.value).toEqual([2, 4]);
  });
  it("shows only the job's env in os.environ", async () => {
    const r = await py("import os; dict(os.environ)", { env: { API_KEY: "k" } });
    expect(r.value).toEqual({ API_KEY: "k" });
  });
  it("keeps hash() consistent with equality inside a job, with numbers' documented hashes", async () => {
    const r = await py(
      [
        "import dataclasses, datetime, enum",
        "s = 'ab' + 'c'",
        "@dataclasses.dataclass(frozen=True)\nclass P:\n    x: str\n    y: int",
        "class Color(enum.Enum):\n    RED = 1",
        "d = datetime.datetime(2020, 1, 2, 3, 4, 5)",
        "[hash(s) == hash('abc'), hash(b'abc') == hash(memoryview(b'abc')), hash(('a', 1)) == hash(tuple(['a', 1])),",
        " hash(frozenset('ab')) == hash(frozenset('ba')), hash(P('a', 1)) == hash(P('a', 1)), hash(Color.RED) == hash(Color(1)),",
        " hash(d) == hash(datetime.datetime(2020, 1, 2, 3, 4, 5)), {P('a', 1), P('a', 1)} == {P('a', 1)},",
        " hash(1), hash(1.0), hash(True), hash(-1), hash(2**100) == hash(2**100 % (2**31 - 1)), hash('x') != -1, type(hash('x')) is int]",
      ].join("\n"),
    );
    expect(r.status).toBe("ok");
    expect(r.value).toEqual([true, true, true, true, true, true, true, true, 1, 1, 1, -2, true, true, true]);
  });

  it("gives two jobs different random numbers (the snapshot's RNG state is re-seeded)", async () => {
    const [a, b] = await Promise.all([py("import random; random.random()"), py("import random; random.random()")]);
    expect(a.value).not.toEqual(b.value);
  });
  it("gives every job a fresh interpreter: module state of one job is absent from the next", async () => {
    await py("import sys; sys.leaked = 1; LEAK = 2");
    const r = await py("import sys; [hasattr(sys, 'leaked'), 'LEAK' in globals()]");
    expect(r.value).toEqual([false, false]);
  });
  it("stops an infinite loop at the wall-clock limit and reports timeout", async () => {
    const r = await py("while True: pass", { limits: { timeoutMs: 500 } });
    expect(r.status).toBe("timeout");
    expect(r.usage.wallMs).toBeLessThan(3000);
  });
  it("stops Python first with KeyboardInterrupt at the deadline, so finally blocks run, and reports timeout", async () => {
    const r = await py("try:\n    while True: pass\nfinally:\n    print('cleaned up')", { limits: { timeoutMs: 400 } });
    expect(r.status).toBe("timeout");
    expect(r.stdout).toBe("cleaned up\n");
  });
  it("stops a guest that swallows KeyboardInterrupt with the hard stop", async () => {
    const r = await py("while True:\n    try:\n        while True: pass\n    except KeyboardInterrupt:\n        pass", {
      limits: { timeoutMs: 400 },
    });
    expect(r.status).toBe("timeout");
    expect(r.usage.wallMs).toBeLessThan(2500);
  });
  it("stops time.sleep past the deadline", async () => {
    const r = await py("import time; time.sleep(100)", { limits: { timeoutMs: 500 } });
    expect(r.status).toBe("timeout");
  });
  it("caps WebAssembly memory: a huge allocation is MemoryError and status memory", async () => {
    const r = await py("x = bytearray(10**9)", { limits: { memoryMb: 128 } });
    expect(r.status).toBe("memory");
  });
  it("stops at maxOutputBytes with output_limit", async () => {
    const r = await py("while True: print('0123456789')", { limits: { maxOutputBytes: 1000, timeoutMs: 5000 } });
    expect(r.status).toBe("output_limit");
    expect(r.stdout.length).toBeLessThanOrEqual(1000);
  });
  it("has no path to Node: js has no process or require, WebAssembly is hidden", async () => {
    const r = await py("import js\n[hasattr(js, n) for n in ('process', 'require', 'WebAssembly', 'Buffer')]");
    expect(r.value).toEqual([false, false, false, false]);
  });
  it("reports a module the isolate cannot provide as ModuleNotFoundError naming it", async () => {
    const r = await py("import numpy");
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("ModuleNotFoundError");
    expect(r.error?.message).toContain("numpy");
  });
  it("cannot read host files: the interpreter's filesystem is its own", async () => {
    const r = await py(
      "import os\n[os.path.exists('/etc/passwd') and open('/etc/passwd').read().startswith('root'), os.path.exists('/work')]",
    );
    expect(r.value).toEqual([false, false]);
  });
  it("keeps a cached snapshot keyed by the Pyodide and isobox versions and the boot sources", async () => {
    // built by `npm run build:snapshot` (run on install), or on first use by a separate process
    const file = pythonSnapshotFile();
    expect(file).toMatch(/pyodide-314\.[\d.]+-isobox-[\d.]+-[0-9a-f]{12}\.snapshot$/);
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(file)).toBe(true);
  });
});

describe("offline wheels", () => {
  it("imports pure-Python wheels on demand, with their dependencies (yaml, tabulate, dateutil+six, jinja2+markupsafe)", async () => {
    const r = await py(
      [
        "import yaml, tabulate, jinja2",
        "from dateutil import parser, relativedelta",
        "[yaml.safe_load('a: [1, 2]'), tabulate.tabulate([[1]], tablefmt='plain'),",
        " jinja2.Template('Hi {{ n }}').render(n='x'), str(parser.parse('2024-01-31') + relativedelta.relativedelta(months=1))]",
      ].join("\n"),
    );
    expect(r.status).toBe("ok");
    expect(r.value).toEqual([{ a: [1, 2] }, "1", "Hi x", "2024-02-29 00:00:00"]);
  });
  it("names the container backend for a module no wheel provides", async () => {
    const r = await py("import pandas");
    expect(r.error?.name).toBe("ModuleNotFoundError");
    expect(r.error?.message).toMatch(/pandas.*container backend/);
  });
});
