// Backend parity: the Python semantics both backends promise (README "Python", "Container backend",
// "Files, capabilities and sessions"), run against each with `backend` set explicitly, asserting the
// same observable result. A case that needs something only one backend has (numpy, matplotlib
// figures; Pyodide's `js`) belongs in that backend's own suite, not here. Left out as inherently
// different: caret lines in tracebacks (CPython 3.14 in Pyodide, 3.11 in the image; see
// withoutCarets), whether a job can catch its own MemoryError (the isolate raises it at the
// WebAssembly memory cap; a container is OOM-killed by its cgroup), and usage figures beyond their
// type (the container's CPU clock ticks in 10 ms under gVisor).
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BACKENDS, paritySandbox, withoutCarets } from "./sandboxes.ts";

/** Lines the embedding process has been handed so far by the current job's onStdout/onStderr. */
const streamed = { stdout: [] as string[], stderr: [] as string[] };
/** Aborted shortly after the current job calls host.started(). */
let abortOnStart: AbortController | undefined;
let addCalls = 0;

const bindings = {
  add: {
    input: z.object({ a: z.number(), b: z.number() }),
    handler: (args: unknown) => {
      addCalls++;
      const { a, b } = args as { a: number; b: number };
      return a + b;
    },
  },
  fail: {
    input: z.object({}),
    handler: () => {
      throw new Error("upstream said no");
    },
  },
  /** Answers once the embedding process has been handed the lines (or after 5 s): what it has. */
  seen: {
    input: z.object({ stdout: z.string(), stderr: z.string() }),
    handler: async (args: unknown) => {
      const { stdout, stderr } = args as { stdout: string; stderr: string };
      for (let i = 0; i < 100 && !(streamed.stdout.includes(stdout) && streamed.stderr.includes(stderr)); i++)
        await new Promise((r) => setTimeout(r, 50));
      return { stdout: [...streamed.stdout], stderr: [...streamed.stderr] };
    },
  },
  started: {
    input: z.object({}),
    handler: () => {
      setTimeout(() => abortOnStart?.abort(), 200);
      return null;
    },
  },
};

const TRACEBACK = `Traceback (most recent call last):
  File "main.py", line 4, in <module>
    f()
  File "main.py", line 2, in f
    raise ValueError('bad value')
ValueError: bad value
`;

describe.each(BACKENDS)(
  "Python on the %s backend",
  (backend) => {
    const box = paritySandbox(backend, { bindings });
    const py = box.run.bind(box);

    describe("values", () => {
      it("returns the value of the last expression: numbers, strings, nested dicts and lists", async () => {
        const r = await py(`[1, -2, 3.5, 2**53, True, False, "héllo ✓", {"a": {"b": [1, None, {"c": (1, 2)}]}, 1: "int key"}]`);
        expect(r).toMatchObject({ status: "ok", backend, stdout: "", stderr: "", files: [] });
        expect(r.value).toEqual([1, -2, 3.5, 2 ** 53, true, false, "héllo ✓", { a: { b: [1, null, { c: [1, 2] }] }, "1": "int key" }]);
        expect((await py("'text'")).value).toBe("text");
        expect((await py("x = 6\nx * 7")).value).toBe(42);
      });

      it("has no value for None, a statement, a trailing semicolon or a value that is not JSON", async () => {
        for (const code of ["None", "x = 1", "1;", "object()", "{1, 2}", "float('nan')", "print"]) {
          const r = await py(code);
          expect(r.status, code).toBe("ok");
          expect("value" in r, code).toBe(false);
          expect(r.error, code).toBeUndefined();
        }
      });

      it("refuses an int JSON cannot carry exactly (past 2**53) with InvalidValue, never a rounded number", async () => {
        for (const [code, shown] of [
          ["2**64 + 1", "18446744073709551617"],
          ["[1, {'n': -(2**53 + 1)}]", "-9007199254740993"],
          ["10**400", "1" + "0".repeat(36) + "..."],
        ] as [string, string][]) {
          const r = await py(code);
          expect(r.status, code).toBe("error");
          expect(r.error, code).toMatchObject({
            name: "InvalidValue",
            message: `The returned value holds ${shown}, a number JSON cannot carry exactly (return it as a string)`,
          });
          expect("value" in r, code).toBe(false);
        }
        expect((await py("[2**53, -(2**53), str(2**64 + 1)]")).value).toEqual([2 ** 53, -(2 ** 53), "18446744073709551617"]);
      });

      it("gives the job its input as the global `input`, and None without one", async () => {
        expect((await py("input['n'] * 2", { input: { n: 21 } })).value).toBe(42);
        expect((await py("[input, type(input).__name__]", { input: ["a", { b: null }] })).value).toEqual([["a", { b: null }], "list"]);
        expect((await py("input is None")).value).toBe(true);
      });

      it("shows only the job's env in os.environ, and runs top-level await", async () => {
        expect((await py("import os\ndict(os.environ)", { env: { GREETING: "hi" } })).value).toEqual({ GREETING: "hi" });
        expect((await py("import asyncio\nawait asyncio.sleep(0.01)\n'done'")).value).toBe("done");
      });
    });

    describe("output", () => {
      it("collects stdout and stderr as text and calls onStdout/onStderr once per line", async () => {
        const out: string[] = [];
        const err: string[] = [];
        const r = await py("import sys\nprint('a')\nprint('b\\nc')\nprint('oops', file=sys.stderr)\nprint('d')", {
          onStdout: (l) => out.push(l),
          onStderr: (l) => err.push(l),
        });
        expect(r).toMatchObject({ status: "ok", stdout: "a\nb\nc\nd\n", stderr: "oops\n" });
        expect(out).toEqual(["a", "b", "c", "d"]);
        expect(err).toEqual(["oops"]);
      });

      it("keeps an unterminated last line: in the text, and handed to onStdout/onStderr", async () => {
        const out: string[] = [];
        const err: string[] = [];
        const r = await py("import sys\nprint('a')\nprint('b', end='')\nsys.stderr.write('e')", {
          onStdout: (l) => out.push(l),
          onStderr: (l) => err.push(l),
        });
        expect(r).toMatchObject({ status: "ok", stdout: "a\nb", stderr: "e" });
        expect(out).toEqual(["a", "b"]);
        expect(err).toEqual(["e"]);
      });

      it("hands each line to onStdout/onStderr while the job is still running", async () => {
        streamed.stdout = [];
        streamed.stderr = [];
        const r = await py(
          "import sys\nprint('one')\nprint('two', file=sys.stderr)\nfrom isobox import host\nseen = host.seen(stdout='one', stderr='two')\nprint('three')\nseen",
          {
            onStdout: (l) => streamed.stdout.push(l),
            onStderr: (l) => streamed.stderr.push(l),
          },
        );
        expect(r.status).toBe("ok");
        // What the embedding process had been handed while the job was blocked in host.seen():
        expect(r.value).toEqual({ stdout: ["one"], stderr: ["two"] });
        expect(streamed).toEqual({ stdout: ["one", "three"], stderr: ["two"] });
      });
    });

    describe("errors and exit", () => {
      it("reports an uncaught exception as error: the class as name, its message, the job's own traceback", async () => {
        const r = await py("def f():\n    raise ValueError('bad value')\n\nf()");
        expect(r).toMatchObject({ status: "error", backend, stdout: "", stderr: "" });
        expect(r.error).toMatchObject({ name: "ValueError", message: "bad value" });
        expect(withoutCarets(r.error?.stack)).toBe(TRACEBACK);
        expect("value" in r).toBe(false);
      });

      it("keeps what was printed before the exception, and reports a syntax error with its line", async () => {
        const r = await py("print('before')\nraise KeyError('k')");
        expect(r).toMatchObject({ status: "error", stdout: "before\n", error: { name: "KeyError", message: "'k'" } });
        expect(r.error?.stack).toContain('File "main.py", line 2, in <module>');
        const syntax = await py("x = 1\ndef (:\n");
        expect(syntax.status).toBe("error");
        expect(syntax.error).toMatchObject({ name: "SyntaxError", message: "invalid syntax (main.py, line 2)" });
      });

      it("treats sys.exit(0) as ok and sys.exit(3) as a SystemExit error, keeping the output", async () => {
        const ok = await py("import sys\nprint('bye')\nsys.exit(0)");
        expect(ok).toMatchObject({ status: "ok", stdout: "bye\n" });
        expect(ok.error).toBeUndefined();
        const three = await py("import sys\nprint('bye')\nsys.exit(3)");
        expect(three).toMatchObject({ status: "error", stdout: "bye\n", error: { name: "SystemExit", message: "exit code 3" } });
      });
    });

    describe("files", () => {
      it("gives the job its files under /home/user, the cwd", async () => {
        const r = await py("import os\n[os.getcwd(), open('data.csv').read(), list(open('in/raw.bin', 'rb').read())]", {
          files: { "data.csv": "a,b\n1,2\n", "in/raw.bin": new Uint8Array([0, 1, 2, 255]) },
        });
        expect(r).toMatchObject({ status: "ok", files: [] });
        expect(r.value).toEqual(["/home/user", "a,b\n1,2\n", [0, 1, 2, 255]]);
      });

      it("returns what the job wrote under output/, sorted by path, with bytes and MIME types", async () => {
        const r = await py(
          `import os
os.makedirs('output/sub', exist_ok=True)
os.makedirs('output/empty', exist_ok=True)
open('output/z.txt', 'w').write('last')
open('output/sub/x.json', 'w').write('{"x": 1}')
open('output/a.csv', 'w').write(open('data.csv').read().upper())
open('output/b.png', 'wb').write(bytes([0x89, 0x50, 0x4e, 0x47]))
open('output/data.bin', 'wb').write(bytes(range(4)))
os.symlink('/etc/passwd', 'output/passwd')
open('notes.txt', 'w').write('not under output/')`,
          { files: { "data.csv": "a,b\n" } },
        );
        expect(r.status).toBe("ok");
        expect(r.files.map((f) => [f.path, f.mimeType, Buffer.from(f.bytes).toString("latin1")])).toEqual([
          ["output/a.csv", "text/csv", "A,B\n"],
          ["output/b.png", "image/png", "\x89PNG"],
          ["output/data.bin", "application/octet-stream", "\x00\x01\x02\x03"],
          ["output/sub/x.json", "application/json", '{"x": 1}'],
          ["output/z.txt", "text/plain", "last"],
        ]);
        expect(r.files.every((f) => f.bytes instanceof Uint8Array)).toBe(true);
      });

      it("returns two output names that normalise to the same path once", async () => {
        const r = await py("open('output/a\\x01.txt', 'w').write('same')\nopen('output/a\\x02.txt', 'w').write('same')");
        expect(r.status).toBe("ok");
        expect(r.files.map((f) => [f.path, Buffer.from(f.bytes).toString()])).toEqual([["output/a_.txt", "same"]]);
      });
    });

    describe("limits and statuses", () => {
      it("stops a job at its wall-clock limit: timeout, TimeoutError, keeping what it printed", async () => {
        const r = await py("print('start', flush=True)\nwhile True: pass", { limits: { timeoutMs: 1_500 } });
        expect(r).toMatchObject({ status: "timeout", backend, stdout: "start\n" });
        expect(r.error).toMatchObject({ name: "TimeoutError", message: "Job exceeded its wall-clock limit of 1500 ms" });
      });

      it("stops a job at its CPU time limit: timeout, TimeoutError", async () => {
        const r = await py("while True: pass", { limits: { timeoutMs: 20_000, cpuTimeMs: 1_000 } });
        expect(r.status).toBe("timeout");
        expect(r.error).toMatchObject({ name: "TimeoutError", message: "Job exceeded its CPU time limit of 1000 ms" });
      });

      it("stops a job allocating far above memoryMb: memory, MemoryError", async () => {
        const r = await py("x = ' ' * 10**9", { limits: { memoryMb: 128 } });
        expect(r.status).toBe("memory");
        expect(r.error?.name).toBe("MemoryError");
        expect(r.error?.message).toMatch(/^Job exceeded its memory limit of 128 MB/);
      });

      it("stops a job printing past maxOutputBytes: output_limit, keeping exactly what fits", async () => {
        const r = await py("while True: print('x' * 99)", { limits: { maxOutputBytes: 10_000 } });
        expect(r.status).toBe("output_limit");
        expect(r.error).toMatchObject({ name: "OutputLimitError", message: "Job wrote more than its 10000 byte output limit" });
        expect(r.stdout).toBe(("x".repeat(99) + "\n").repeat(100));
      });

      it("refuses a returned value over the value limit: output_limit, OutputLimitError", async () => {
        // The value cap is max(16 MiB, maxOutputBytes): 17 MiB of string is 17825794 bytes of JSON.
        const r = await py("'x' * (17 * 1024 * 1024)");
        expect(r.status).toBe("output_limit");
        expect("value" in r).toBe(false);
        expect(r.error).toMatchObject({
          name: "OutputLimitError",
          message: "The returned value is 17825794 bytes of JSON, over the 16777216 byte limit",
        });
      });

      it("answers killed when the job's signal aborts mid-run, keeping what it printed", async () => {
        abortOnStart = new AbortController();
        const r = await py("print('started', flush=True)\nfrom isobox import host\nhost.started()\nwhile True: pass", {
          signal: abortOnStart.signal,
          limits: { timeoutMs: 15_000 },
        });
        abortOnStart = undefined;
        expect(r).toMatchObject({ status: "killed", backend, error: { name: "AbortError", message: "The job was aborted" } });
        expect(r.stdout).toBe("started\n");
        expect(r.usage.wallMs).toBeGreaterThan(0);
      });

      it("rejects a job that fails validation before anything runs, naming the field", async () => {
        const r = await py("print('never')", { limits: { memoryMb: 1 } });
        expect(r).toMatchObject({ status: "rejected", stdout: "", error: { name: "InvalidJob" } });
        expect(r.error?.message).toMatch(/^limits\.memoryMb: /);
        expect(r.backend).toBe(backend);
      });

      it("reports usage: wall and CPU time as numbers", async () => {
        const r = await py("sum(range(10**5))");
        expect(r.value).toBe(4999950000);
        expect(r.usage.wallMs).toBeGreaterThan(0);
        expect(Number.isFinite(r.usage.cpuMs)).toBe(true);
        expect(r.usage.cpuMs).toBeGreaterThanOrEqual(0);
        if (r.usage.memoryPeakBytes !== undefined) expect(r.usage.memoryPeakBytes).toBeGreaterThan(0);
      });
    });

    describe("sessions", () => {
      it("keeps variables and files between runs of one session id; endSession drops them", async () => {
        const session = `${backend}-kept`;
        const first = await py("counter = 41\nopen('notes.txt', 'w').write('kept')\ncounter", { session });
        expect(first).toMatchObject({ status: "ok", value: 41 });
        const second = await py("counter += 1\n[counter, open('notes.txt').read()]", { session });
        expect(second).toMatchObject({ status: "ok", value: [42, "kept"] });
        expect((await py("'counter' in globals()", { session: `${session}-other` })).value).toBe(false);
        await box.sandbox.endSession(session);
        const after = await py("import os\n['counter' in globals(), os.path.exists('notes.txt')]", { session });
        expect(after.value).toEqual([false, false]);
        await box.sandbox.endSession(session);
        await box.sandbox.endSession(`${session}-other`);
      });

      it("rejects a session run asking for another memoryMb (SessionLimits); the session goes on", async () => {
        const session = `${backend}-sized`;
        await py("state = 'kept'", { session });
        const other = await py("state", { session, limits: { memoryMb: 512 } });
        expect(other).toMatchObject({ status: "rejected", backend, error: { name: "SessionLimits" } });
        expect(other.error?.message).toMatch(/^limits\.memoryMb: this session's guest was started with 256 MB/);
        expect((await py("state", { session })).value).toBe("kept");
        await box.sandbox.endSession(session);
      });
    });

    describe("capabilities", () => {
      it("calls a zod-validated binding as host.add(a=1, b=2) and returns its result", async () => {
        const r = await py("from isobox import host\nhost.add(a=1, b=2)");
        expect(r).toMatchObject({ status: "ok", value: 3 });
      });

      it("raises ValidationError in Python for arguments the schema refuses, before the handler runs", async () => {
        const before = addCalls;
        const uncaught = await py("from isobox import host\nhost.add(a='x', b=1)");
        expect(uncaught.status).toBe("error");
        expect(uncaught.error).toMatchObject({
          name: "ValidationError",
          message: "Invalid arguments for add: a: Invalid input: expected number, received string",
        });
        expect(uncaught.error?.stack).toContain('File "main.py", line 2, in <module>');
        const caught = await py(
          "from isobox import host, ValidationError\ntry:\n    host.add(a=1)\nexcept ValidationError as e:\n    r = [type(e).__name__, isinstance(e, ValueError), 'expected number' in str(e)]\nr",
        );
        expect(caught.value).toEqual(["ValidationError", true, true]);
        expect(addCalls).toBe(before);
      });

      it("raises BindingError with the handler's message only when the handler throws", async () => {
        const uncaught = await py("from isobox import host\nhost.fail()");
        expect(uncaught.status).toBe("error");
        expect(uncaught.error).toMatchObject({ name: "BindingError", message: "upstream said no" });
        expect(uncaught.error?.stack ?? "").not.toMatch(/python\.test|dispatcher|node_modules/);
        const caught = await py(
          "from isobox import host, BindingError\ntry:\n    host.fail()\nexcept BindingError as e:\n    r = str(e)\nr",
        );
        expect(caught.value).toBe("upstream said no");
      });
    });
  },
  60_000,
); // per case: several jobs, and a container job that finds no warm container starts a cold one
