// Hostile suite, Python part 3: the isolate's lockdown (runtimes/isolate/lockdown.js) reached from
// Python through `import js` and Pyodide's own objects. Every lock of the JavaScript guest holds for
// Python too, from the first line of the first job: resizable buffers, SharedArrayBuffer,
// Atomics.wait/waitAsync, and WebAssembly once the interpreter has booted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../src/index.ts";
import { expectAlive, expectPyHealthy, PY_LIMITS, pyAttack } from "./python-helpers.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ concurrency: 2, warm: { javascript: 0, python: 2 }, sessions: { max: 2 } });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
});

const RESIZABLE = /Resizable ArrayBuffers are not available in the sandbox/;
const OPTIONS = "to_js({'maxByteLength': 2**28}, dict_converter=js.Object.fromEntries)";
/** Python: every route in `routes` (name → thunk) tried; the value maps each name to what it made or the error it raised. */
const tryRoutes =
  "out = {}\nfor name, make in routes.items():\n    try:\n        out[name] = 'made: ' + str(make())\n    except Exception as e:\n        out[name] = type(e).__name__ + ': ' + str(e)\nout";

describe("resizable ArrayBuffers (threat: resize() reserves memory outside the isolate's cap)", () => {
  it("js.ArrayBuffer.new(1, {maxByteLength: 256 MB}) is refused with a RangeError", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `import js\nfrom pyodide.ffi import to_js\nb = js.ArrayBuffer.new(1, ${OPTIONS})\nb.resizable`,
    });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("JsException");
    expect(r.error?.message).toMatch(RESIZABLE);
  });

  it("the constructor of an existing buffer (a Uint8Array's, the interpreter heap's, a subclass, Reflect.construct) is refused too", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `import js, pyodide_js
from pyodide.ffi import to_js
opts = ${OPTIONS}
own = js.Uint8Array.new(4).buffer
routes = {
    "buffer.constructor": lambda: own.constructor.new(1, opts).resizable,
    "HEAPU8.buffer.constructor": lambda: pyodide_js._module.HEAPU8.buffer.constructor.new(1, opts).resizable,
    "getPrototypeOf(buffer).constructor": lambda: js.eval("(b) => Object.getPrototypeOf(b).constructor")(own).new(1, opts).resizable,
    "subclass": lambda: js.eval("(C, o) => new (class extends C {})(1, o)")(own.constructor, opts).resizable,
    "Reflect.construct": lambda: js.Reflect.construct(own.constructor, to_js([1, opts])).resizable,
}
${tryRoutes}`,
    });
    expect(r.status).toBe("ok");
    const out = r.value as Record<string, string>;
    expect(Object.keys(out)).toHaveLength(5);
    for (const made of Object.values(out)) expect(made).toMatch(RESIZABLE);
  });

  it("a resizable buffer grown to 256 MB and filled under a 64 MB cap never ends ok", async () => {
    // The reproduction of REVIEW-2026-12 §1a: before the shared lockdown this ended ok, reporting 22 MB.
    const { r } = await pyAttack(sandbox, {
      code: `import js\nfrom pyodide.ffi import to_js\nb = js.ArrayBuffer.new(1, ${OPTIONS})\nb.resize(2**28)\njs.Uint8Array.new(b).fill(7)\nb.byteLength`,
      limits: { timeoutMs: 5000, memoryMb: 64 },
    });
    expect(["error", "memory"]).toContain(r.status);
    expect(r.value).toBeUndefined();
    if (r.status === "error") expect(r.error?.message).toMatch(RESIZABLE);
  });
});

describe("Atomics.wait / waitAsync (threat: blocking the isolate's thread where termination cannot reach it)", () => {
  it("Atomics.wait(Py_EmscriptenSignalBuffer, 0, 0, 60 s) throws at once instead of blocking", async () => {
    const { r, ms } = await pyAttack(sandbox, {
      code: "import js, pyodide_js\njs.Atomics.wait(pyodide_js._module.Py_EmscriptenSignalBuffer, 0, 0, 60000)",
      limits: { timeoutMs: 3000 },
    });
    expect(r.status).toBe("error");
    expect(r.error?.message).toMatch(/Atomics\.wait is not available in the sandbox/);
    expect(ms).toBeLessThan(2500);
  });

  it("Atomics.waitAsync on the signal buffer and on a plain Int32Array is refused", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `import js, pyodide_js
signal = pyodide_js._module.Py_EmscriptenSignalBuffer
routes = {
    "signal buffer": lambda: js.Atomics.waitAsync(signal, 0, 0, 60000).value,
    "Int32Array": lambda: js.Atomics.waitAsync(js.Int32Array.new(4), 0, 0, 10).value,
    "wait, Int32Array": lambda: js.Atomics.wait(js.Int32Array.new(4), 0, 0, 10),
}
${tryRoutes}`,
    });
    expect(r).toMatchObject({
      status: "ok",
      value: {
        "signal buffer": expect.stringMatching(/Atomics\.waitAsync is not available in the sandbox/),
        Int32Array: expect.stringMatching(/Atomics\.waitAsync is not available in the sandbox/),
        "wait, Int32Array": expect.stringMatching(/Atomics\.wait is not available in the sandbox/),
      },
    });
  });

  it("Atomics.wait cannot be deleted, redefined or reassigned from Python, and still refuses", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `import js, pyodide_js
from pyodide.ffi import to_js
out = [js.Reflect.deleteProperty(js.Atomics, "wait"),
       js.Reflect.defineProperty(js.Atomics, "wait", to_js({"value": js.Math.max}, dict_converter=js.Object.fromEntries)),
       js.Reflect.set(js.Atomics, "waitAsync", js.Math.max)]
try:
    out.append(js.Atomics.wait(pyodide_js._module.Py_EmscriptenSignalBuffer, 0, 0, 10))
except Exception as e:
    out.append(str(e))
out`,
    });
    expect(r).toMatchObject({
      status: "ok",
      value: [false, false, false, expect.stringMatching(/Atomics\.wait is not available in the sandbox/)],
    });
  });
});

describe("SharedArrayBuffer (threat: shared memory is allocated outside the isolate's cap)", () => {
  it("js.SharedArrayBuffer, js.eval and a Function constructor find no SharedArrayBuffer", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import js\n[hasattr(js, 'SharedArrayBuffer'), js.eval('typeof SharedArrayBuffer'), js.Function('return typeof globalThis.SharedArrayBuffer')()]",
    });
    expect(r).toMatchObject({ status: "ok", value: [false, "undefined", "undefined"] });
  });

  it("the constructor of Pyodide's interrupt buffer (a SharedArrayBuffer) cannot grow 256 MB of shared memory under a 64 MB cap", async () => {
    // Before the shared lockdown this ended ok with 268435456, the cap never seeing the growth.
    const { r } = await pyAttack(sandbox, {
      code: `import js, pyodide_js\nfrom pyodide.ffi import to_js\nSAB = pyodide_js._module.Py_EmscriptenSignalBuffer.buffer.constructor\nb = SAB.new(1, ${OPTIONS})\nb.grow(2**28)\njs.Uint8Array.new(b).fill(7)\nb.byteLength`,
      limits: { timeoutMs: 5000, memoryMb: 64 },
    });
    expect(r.status).toBe("error");
    expect(r.value).toBeUndefined();
    expect(r.error?.message).toMatch(/SharedArrayBuffer is not available in the sandbox/);
  });
});

describe("WebAssembly after boot (threat: memory outside the cap, and the guest's own machine code)", () => {
  it("Memory, Module, Instance and compile are unreachable: js.WebAssembly, eval, constructors, Pyodide's own loader", async () => {
    // A module declaring 1 GiB of its own memory (instantiation would allocate it, with no grow() check).
    const { r } = await pyAttack(sandbox, {
      code: `import js, pyodide_js
from pyodide.ffi import to_js
m = pyodide_js._module
big = to_js(bytes([0, 97, 115, 109, 1, 0, 0, 0, 5, 5, 1, 0, 0x80, 0x80, 0x01, 7, 5, 1, 1, 109, 2, 0]))
opts = lambda d: to_js(d, dict_converter=js.Object.fromEntries)
routes = {
    "js.WebAssembly.Memory": lambda: js.WebAssembly.Memory.new(opts({"initial": 16384})),
    "eval Module": lambda: js.eval("(b) => new WebAssembly.Module(b)")(big),
    "Function Instance": lambda: js.Function("b", "return new WebAssembly.Instance(new WebAssembly.Module(b))")(big),
    "eval compile": lambda: js.eval("(b) => WebAssembly.compile(b)")(big),
    "memory.constructor": lambda: m.memory.constructor.new(opts({"initial": 16384})),
    "wasmTable.constructor": lambda: m.wasmTable.constructor.new(opts({"initial": 1, "element": "anyfunc"})),
    "loadWebAssemblyModule": lambda: m.loadWebAssemblyModule(big, opts({"loadAsync": False})),
}
${tryRoutes}`,
    });
    expect(r.status).toBe("ok");
    const out = r.value as Record<string, string>;
    expect(Object.keys(out)).toHaveLength(7);
    for (const made of Object.values(out))
      expect(made).toMatch(/WebAssembly is not defined|WebAssembly\.\w+ is not available in the sandbox|^AttributeError: WebAssembly$/);
  });
});

describe("the locks hold for every run of a session", () => {
  it("a session's second run still meets the buffer, Atomics and SharedArrayBuffer locks", async () => {
    const first = await sandbox.run({
      language: "python",
      session: "py-lockdown",
      code: "import js\nkept = js.Uint8Array.new(4).buffer\n1",
      limits: PY_LIMITS,
    });
    expect(first.status).toBe("ok");
    const { r } = await pyAttack(sandbox, {
      session: "py-lockdown",
      code: `import js, pyodide_js
from pyodide.ffi import to_js
signal = pyodide_js._module.Py_EmscriptenSignalBuffer
routes = {
    "resizable": lambda: kept.constructor.new(1, ${OPTIONS}).resizable,
    "wait": lambda: js.Atomics.wait(signal, 0, 0, 10),
    "shared": lambda: signal.buffer.constructor.new(8).byteLength,
}
${tryRoutes}`,
    });
    expect(r).toMatchObject({
      status: "ok",
      value: {
        resizable: expect.stringMatching(RESIZABLE),
        wait: expect.stringMatching(/Atomics\.wait is not available in the sandbox/),
        shared: expect.stringMatching(/SharedArrayBuffer is not available in the sandbox/),
      },
    });
  });
});

it("after all these attacks the host process is alive and a Python job still runs", async () => {
  expectAlive(sandbox.hostPid);
  await expectPyHealthy(sandbox);
});
