// Hostile suite, Python part 1: escaping the interpreter. Pyodide runs inside an isolated-vm isolate;
// these jobs try every route a Python program has to the host: the `js` module and Pyodide's own
// JavaScript objects, processes, files, the network, and state shared between jobs.
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../src/index.ts";
import { expectHealthy } from "./helpers.ts";
import { expectAlive, expectPyHealthy, PWN, pyAttack, SECRET } from "./python-helpers.ts";

let sandbox: Sandbox;
let listener: Server;
let port = 0;
const connections: Socket[] = [];

beforeAll(async () => {
  listener = createServer((s) => {
    connections.push(s);
    s.end("HTTP/1.0 200 OK\r\n\r\nhost data");
  });
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  port = (listener.address() as { port: number }).port;
  sandbox = await createSandbox({ concurrency: 2, warm: { javascript: 0, python: 2 } });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
  await new Promise((r) => listener.close(r));
});

describe("the js module and Pyodide's JavaScript side", () => {
  it("import js, then js.process / js.require / js.Buffer / js.WebAssembly / ivm: all absent", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import js\n[hasattr(js, n) for n in ('process', 'require', 'Buffer', 'WebAssembly', 'ivm', '_ivm', 'module', 'global', 'SharedArrayBuffer', 'read', 'load')]",
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual(Array(11).fill(false));
  });

  it("js.fetch / js.XMLHttpRequest / js.WebSocket / importScripts / navigator: all absent", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import js\n[hasattr(js, n) for n in ('fetch', 'XMLHttpRequest', 'WebSocket', 'importScripts', 'navigator', 'Deno', 'Bun')]",
    });
    expect(r).toMatchObject({ status: "ok", value: Array(7).fill(false) });
  });

  it("walking every object reachable from js.globalThis and pyodide_js (own keys and prototypes) finds no process/require/ivm/Reference/Buffer/WebAssembly", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `import js, pyodide_js
names = {"process", "require", "ivm", "_ivm", "Reference", "ExternalCopy", "Callback", "Isolate", "Buffer", "WebAssembly", "mainModule", "__dirname", "SharedArrayBuffer"}
seen, found = set(), []
stack = [("globalThis", js.globalThis), ("pyodide_js", pyodide_js)]
while stack and len(seen) < 6000:
    path, o = stack.pop()
    try:
        keys = [k for k in js.Reflect.ownKeys(o) if isinstance(k, str)]
        proto = js.Reflect.getPrototypeOf(o)
    except Exception:
        continue
    if proto is not None:
        keys.append("__proto__")
    for k in keys:
        if k in names:
            found.append(path + "." + k)
        try:
            v = proto if k == "__proto__" else getattr(o, k)
        except Exception:
            continue
        if hasattr(v, "js_id") and v.js_id not in seen:
            seen.add(v.js_id)
            stack.append((path + "." + k, v))
[len(seen) > 500, found]`,
      limits: { timeoutMs: 15_000 },
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual([true, []]);
  });

  it("js.eval reports typeof process/require/WebAssembly as undefined", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import js\n[js.eval(f'typeof {n}') for n in ('process', 'require', 'WebAssembly', 'Buffer', 'globalThis.process')]",
    });
    expect(r).toMatchObject({ status: "ok", value: Array(5).fill("undefined") });
  });

  it("js.Function('return process')() fails with a ReferenceError inside the guest", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `import js\njs.Function("return process.mainModule.require('fs').writeFileSync(" + repr(${PWN}) + ", 'x')")()`,
    });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("JsException");
    expect(r.error?.message).toMatch(/ReferenceError: process is not defined/);
  });

  it("pyodide.ffi.to_js([]).constructor.constructor('return globalThis.process')() gives nothing", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "from pyodide.ffi import to_js\nF = to_js([]).constructor.constructor\n[F('return globalThis.process')(), F('return typeof require')(), F('return typeof globalThis.WebAssembly')()]",
    });
    expect(r).toMatchObject({ status: "ok", value: [null, "undefined", "undefined"] });
  });

  it("pyodide.ffi.create_proxy(...).constructor.constructor builds a Function that still finds no process", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "from pyodide.ffi import create_proxy\np = create_proxy(lambda: 1)\nF = p.constructor.constructor\nres = [F('return typeof process')(), F('try { return require(\"fs\") } catch (e) { return e.name }')()]\np.destroy()\nres",
    });
    expect(r).toMatchObject({ status: "ok", value: ["undefined", "ReferenceError"] });
  });

  it("js.eval of a dynamic import('fs') / import('node:child_process') is refused", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import js\nout = []\nfor m in ('fs', 'node:child_process'):\n    try:\n        await js.eval(f'import({m!r})')\n        out.append('imported ' + m)\n    except Exception as e:\n        out.append(type(e).__name__)\nout",
    });
    expect(r).toMatchObject({ status: "ok", value: ["JsException", "JsException"] });
  });

  it("js.eval polluting the guest's Object.prototype, JSON.parse and JSON.stringify leaves the host and the result intact", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import js\njs.eval('Object.prototype.polluted = 1; Array.prototype.polluted = 1; JSON.parse = () => ({ polluted: 1 }); JSON.stringify = () => \"{}\"')\n{'a': [1, 2]}",
    });
    expect(r).toMatchObject({ status: "ok", value: { a: [1, 2] } });
  });

  it("pyodide_js.mountNodeFS('/mnt', '/') cannot mount the host's filesystem", async () => {
    const { r } = await pyAttack(sandbox, { code: "import pyodide_js, os\npyodide_js.mountNodeFS('/mnt', '/')\nos.listdir('/mnt')" });
    expect(r.status).toBe("error");
    expect(r.error?.message).toMatch(/only works in Node/);
  });

  it("pyodide_js.FS.mount(NODEFS) and pyodide_js._api.loadBinaryFile('/etc/passwd') read no host file", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `import pyodide_js, js
out = []
try:
    pyodide_js.FS.mkdir("/hostroot")
    pyodide_js.FS.mount(pyodide_js._module.NODEFS, js.Object.fromEntries([["root", "/"]]), "/hostroot")
    out.append(sorted(pyodide_js.FS.readdir("/hostroot")))
except Exception as e:
    out.append(type(e).__name__)
try:
    out.append(str(await pyodide_js._api.loadBinaryFile("/etc/passwd"))[:50])
except Exception as e:
    out.append(type(e).__name__)
out`,
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual(["JsException", "JsException"]);
  });

  it("the offline-wheel door (_isobox_wheels.fetch) serves no other host file: traversal and absolute paths refused", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `out = []
try:
    import _isobox_wheels as w
except ImportError:
    w = None
for p in ("../../../../etc/passwd", "/etc/passwd", "../package.json", "../../src/index.ts", "x/../../pyodide/pyodide.asm.wasm", "/pyodide/pyodide-lock.json"):
    try:
        out.append(len(w.fetch(p).to_bytes()) if w else "no door")
    except Exception as e:
        out.append(type(e).__name__)
out`,
    });
    expect(r.status).toBe("ok");
    for (const v of r.value as unknown[]) expect(["JsException", "no door"]).toContain(v);
  });

  it("await pyodide_js.loadPackage('numpy') fetches nothing: the import still fails naming the container backend", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import pyodide_js\ntry:\n    await pyodide_js.loadPackage('numpy')\nexcept Exception:\n    pass\nimport numpy",
    });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("ModuleNotFoundError");
    expect(r.error?.message).toMatch(/numpy.*container/);
  });

  it("pyodide_js.runPython of a nested os.system payload runs nothing on the host", async () => {
    const { r, pwnPath } = await pyAttack(sandbox, {
      code: `import pyodide_js\npyodide_js.runPython("import os; os.system('touch ' + ${PWN})")`,
    });
    expect(["ok", "error"]).toContain(r.status);
    expect(pwnPath).toMatch(/isobox-pwned/);
  });

  it("importlib of _pyodide / _pyodide_core / pyodide_js internals gives the guest nothing host-side", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import importlib\nfor n in ('_pyodide', '_pyodide._base', '_pyodide_core', 'pyodide_js', 'pyodide.ffi', 'pyodide.code'):\n    importlib.import_module(n)\nimport pyodide_js\nsorted(k for k in pyodide_js._api.object_keys() if k in ('process', 'require', 'ivm', 'bridge'))",
    });
    expect(r).toMatchObject({ status: "ok", value: [] });
  });

  it("_pyodide_core.trigger_fatal_error() ends the job with a clear status and the next job runs", async () => {
    const { r } = await pyAttack(sandbox, { code: "import _pyodide_core\n_pyodide_core.trigger_fatal_error()" });
    expect(["error", "crashed"]).toContain(r.status);
  });
});

describe("processes and signals", () => {
  it("os.system('touch /tmp/isobox-pwned-…') returns -1 and creates nothing", async () => {
    const { r } = await pyAttack(sandbox, { code: `import os\nos.system('touch ' + ${PWN})` });
    expect(r).toMatchObject({ status: "ok", value: -1 });
  });

  it("subprocess.run(['touch', …]) fails: no processes", async () => {
    const { r } = await pyAttack(sandbox, { code: `import subprocess\nsubprocess.run(['touch', ${PWN}])` });
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ name: "OSError" });
  });

  it("os.fork() fails", async () => {
    const { r } = await pyAttack(sandbox, { code: "import os\nos.fork()" });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("OSError");
  });

  it("os.popen('id') fails", async () => {
    const { r } = await pyAttack(sandbox, { code: "import os\nos.popen('id').read()" });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("OSError");
  });

  it("ctypes.CDLL(None).system(b'touch …') reaches only Emscripten's libc (-1), creates nothing", async () => {
    const { r } = await pyAttack(sandbox, { code: `import ctypes\nlibc = ctypes.CDLL(None)\nlibc.system(('touch ' + ${PWN}).encode())` });
    expect(r).toMatchObject({ status: "ok", value: -1 });
  });

  it("os.kill(os.getpid(), 9) and signal.raise_signal(SIGKILL) end only the guest; the host process lives", async () => {
    const hostPid = sandbox.hostPid;
    for (const code of ["import os\nos.kill(os.getpid(), 9)", "import signal\nsignal.raise_signal(signal.SIGKILL)"]) {
      const { r } = await pyAttack(sandbox, { code });
      expect(r.status).toBe("error");
      expectAlive(hostPid);
    }
    expect(sandbox.hostPid).toBe(hostPid);
    expectAlive(process.pid);
  });

  it("signal.alarm / signal.setitimer are unavailable", async () => {
    const { r } = await pyAttack(sandbox, { code: "import signal\n[hasattr(signal, 'alarm'), hasattr(signal, 'setitimer')]" });
    expect(r).toMatchObject({ status: "ok", value: [false, false] });
  });

  it("import resource (setrlimit) fails with ModuleNotFoundError", async () => {
    const { r } = await pyAttack(sandbox, { code: "import resource\nresource.setrlimit(resource.RLIMIT_CPU, (1, 1))" });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("ModuleNotFoundError");
  });

  it("multiprocessing.Process(...).start() fails", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import multiprocessing\np = multiprocessing.Process(target=print, args=('hi',))\np.start()\np.join()",
    });
    expect(r.status).toBe("error");
    expect(["ModuleNotFoundError", "OSError", "RuntimeError"]).toContain(r.error?.name);
  });

  it("threading.Thread(...).start() fails with RuntimeError (no threads)", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import threading\nout = []\nt = threading.Thread(target=lambda: out.append(1))\nt.start()\nt.join()\nout",
    });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("RuntimeError");
  });

  it("faulthandler.enable() then faulthandler._sigsegv() ends the job with a clear status", async () => {
    const { r } = await pyAttack(sandbox, { code: "import faulthandler\nfaulthandler.enable()\nfaulthandler._sigsegv()" });
    expect(["error", "crashed"]).toContain(r.status);
  });
});

describe("the filesystem is virtual", () => {
  it("open('/etc/passwd') fails", async () => {
    const { r } = await pyAttack(sandbox, { code: "open('/etc/passwd').read()" });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("FileNotFoundError");
  });

  it("open('/proc/self/environ') fails", async () => {
    const { r } = await pyAttack(sandbox, { code: "open('/proc/self/environ', 'rb').read()" });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("FileNotFoundError");
  });

  it("open('/proc/self/maps') and /proc/self/cmdline fail", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "out = []\nfor p in ('/proc/self/maps', '/proc/self/cmdline', '/proc/1/environ'):\n    try:\n        out.append(open(p).read()[:100])\n    except OSError as e:\n        out.append(type(e).__name__)\nout",
    });
    expect(r).toMatchObject({ status: "ok", value: ["FileNotFoundError", "FileNotFoundError", "FileNotFoundError"] });
  });

  it("os.walk('/') sees only the virtual filesystem: no /work, /root, .npm, node_modules, /etc", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import os\npaths = []\nfor d, dirs, files in os.walk('/'):\n    if d.startswith(('/proc', '/dev', '/lib/python')):\n        dirs[:] = []\n    paths.append(d)\n[sorted(os.listdir('/')), paths]",
    });
    expect(r.status).toBe("ok");
    const [root, paths] = r.value as [string[], string[]];
    expect(root).not.toContain("work");
    expect(root).not.toContain("root");
    expect(root).not.toContain("etc");
    expect(root).not.toContain("usr");
    for (const p of paths) expect(p).not.toMatch(/^\/(work|root|etc|usr|var)\b|\.npm|node_modules|isobox/);
  });

  it("a file written to /tmp/isobox-pwned-… lands in the virtual FS only", async () => {
    const { r } = await pyAttack(sandbox, { code: `import os\nopen(${PWN}, 'w').write('pwned')\nos.path.exists(${PWN})` });
    expect(r).toMatchObject({ status: "ok", value: true });
  });

  it("os.environ is only the job's env: the host's secret is absent", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import os\n[dict(os.environ), os.getenv('ISOBOX_TEST_SECRET'), os.getenv('PATH'), os.getenv('HOME')]",
      env: { JOB_ONLY: "yes" },
    });
    expect(r).toMatchObject({ status: "ok", value: [{ JOB_ONLY: "yes" }, null, null, null] });
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });
});

describe("the network", () => {
  const net = (name: string, code: string, names: string[]) =>
    it(`${name} reaches no host listener`, async () => {
      const { r } = await pyAttack(sandbox, { code: code.replaceAll("PORT", String(port)) });
      expect(r.status).toBe("error");
      expect(names).toContain(r.error?.name);
      await new Promise((res) => setTimeout(res, 100));
      expect(connections.length).toBe(0);
    });
  net(
    "socket.socket().connect(('127.0.0.1', port))",
    "import socket\ns = socket.socket()\ns.connect(('127.0.0.1', PORT))\ns.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\ns.recv(100)",
    ["OSError", "ConnectionRefusedError", "TimeoutError"],
  );
  net(
    "urllib.request.urlopen('http://127.0.0.1:port')",
    "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:PORT/', timeout=1).read()",
    ["URLError", "OSError"],
  );
  net(
    "http.client.HTTPConnection to 127.0.0.1:port",
    "import http.client\nc = http.client.HTTPConnection('127.0.0.1', PORT, timeout=1)\nc.request('GET', '/')\nc.getresponse().read()",
    ["OSError", "ConnectionRefusedError"],
  );
  net("asyncio.open_connection('127.0.0.1', port)", "import asyncio\nr, w = await asyncio.open_connection('127.0.0.1', PORT)", [
    "NotImplementedError",
    "OSError",
  ]);
  net("pyodide.http.pyfetch('http://127.0.0.1:port')", "from pyodide.http import pyfetch\nawait pyfetch('http://127.0.0.1:PORT/')", [
    "NameError",
    "JsException",
    "OSError",
    "AbortError",
  ]);
});

describe("state shared between jobs", () => {
  it("sys.modules, builtins.print, json.dumps, os.environ and /tmp changed by one job are all back to normal in the next", async () => {
    const { r: first } = await pyAttack(
      sandbox,
      {
        code: "import builtins, json, os, sys\nbuiltins.print = lambda *a, **k: None\njson.dumps = lambda *a, **k: '\"forged\"'\nos.environ['LEAK'] = '1'\nos.makedirs('/tmp/persist', exist_ok=True)\nopen('/tmp/persist/f', 'w').write('x')\nsys.modules['evilmod'] = sys\nsys.leaked = 1\nLEAK = 2\n1",
      },
      { healthy: false },
    );
    expect(["ok", "error"]).toContain(first.status); // its own envelope is forged: json.dumps is the runner's too
    const runs = await Promise.all(
      [0, 1, 2].map(() =>
        sandbox.run({
          language: "python",
          code: "import sys, os, json, builtins\nprint('visible')\n['evilmod' in sys.modules, hasattr(sys, 'leaked'), 'LEAK' in globals(), json.dumps({'a': 1}), 'LEAK' in os.environ, os.path.exists('/tmp/persist/f')]",
          limits: { timeoutMs: 5000 },
        }),
      ),
    );
    for (const r of runs)
      expect(r).toMatchObject({ status: "ok", stdout: "visible\n", value: [false, false, false, '{"a": 1}', false, false] });
  });

  it("random.random() and os.urandom differ between two jobs restored from the same snapshot", async () => {
    const code = "import random, os\n[random.random(), os.urandom(8).hex()]";
    const [a, b] = await Promise.all([pyAttack(sandbox, { code }), pyAttack(sandbox, { code })]);
    expect(a.r.status).toBe("ok");
    expect(b.r.status).toBe("ok");
    expect((a.r.value as unknown[])[0]).not.toEqual((b.r.value as unknown[])[0]);
    expect((a.r.value as unknown[])[1]).not.toEqual((b.r.value as unknown[])[1]);
  });

  // Every interpreter is restored from one memory snapshot, whose hash secret cannot change after
  // restore: hash() is keyed per interpreter instead (runner.py _keyed_hash), and expat's salt is
  // re-keyed (python.js rekeyExpatSalt). What stays the snapshot's is the hashing dicts and sets do.
  it("hash('abc'), hash(b'abc') and hash(('a', 1)) differ between two jobs restored from the same snapshot", async () => {
    const code = "[hash('abc'), hash(b'abc'), hash(('a', 1)), hash(frozenset({'x'}))]";
    const [a, b] = await Promise.all([pyAttack(sandbox, { code }), pyAttack(sandbox, { code })]);
    for (const { r } of [a, b]) expect(r.status).toBe("ok");
    const [va, vb] = [a.r.value as number[], b.r.value as number[]];
    for (let i = 0; i < va.length; i++) expect(va[i]).not.toBe(vb[i]);
  });

  it("expat's hash salt (read from _Py_HashSecret through ctypes) differs between two jobs", async () => {
    const code = "import ctypes\nbytes((ctypes.c_ubyte * 24).in_dll(ctypes.CDLL(None), '_Py_HashSecret'))[16:].hex()";
    const [a, b] = await Promise.all([pyAttack(sandbox, { code }), pyAttack(sandbox, { code })]);
    for (const { r } of [a, b]) expect(r).toMatchObject({ status: "ok", value: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(a.r.value).not.toBe(b.r.value);
  });

  it("tempfile names, uuid4, secrets, SystemRandom and every random.Random in the interpreter differ between two jobs", async () => {
    const code = [
      "import gc, random, secrets, tempfile, uuid",
      "states = sorted(hash(o.getstate()) for o in gc.get_objects() if type(o) is random.Random)",
      "[next(tempfile._get_candidate_names()), tempfile.mktemp(), str(uuid.uuid4()), str(uuid.uuid1())[24:], secrets.token_hex(8), random.SystemRandom().random(), states]",
    ].join("\n");
    const [a, b] = await Promise.all([pyAttack(sandbox, { code }), pyAttack(sandbox, { code })]);
    for (const { r } of [a, b]) expect(r.status).toBe("ok");
    const [va, vb] = [a.r.value as unknown[], b.r.value as unknown[]];
    for (let i = 0; i < va.length - 1; i++) expect(va[i]).not.toEqual(vb[i]);
    const [sa, sb] = [va[va.length - 1] as number[], vb[vb.length - 1] as number[]];
    expect(sa.length).toBeGreaterThan(0);
    for (const s of sa) expect(sb).not.toContain(s); // no generator state shared by the two jobs
  });

  it("redefining the runner (__isobox_run*, _describe, _json in __main__) changes only this job's own result", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import sys\nm = sys.modules['__main__']\nasync def evil(*a, **k):\n    return '{\"kind\": \"ok\", \"json\": \"42\"}'\nfor n in list(vars(m)):\n    if n.startswith('__isobox') or n.startswith('_describe'):\n        setattr(m, n, evil)\n__isobox_run = evil\nraise ValueError('own job')",
    });
    expect(["ok", "error"]).toContain(r.status); // whatever it forged, it is its own result
  });

  it("forging a malformed envelope through the runner's json module gives a clear status, and run() does not throw", async () => {
    const { r } = await pyAttack(sandbox, {
      code: 'import sys\nsys.modules[\'json\'].dumps = lambda *a, **k: \'{"kind": "ok", "json": "{not json"}\'\n1',
    });
    expect(r.status).toBe("error");
  });
});

describe("introspection of the runner", () => {
  it("gc.get_objects() exposes no host object: no JsProxy with process/require/ivm attributes, no host secret", async () => {
    const { r } = await pyAttack(sandbox, {
      code: `import gc
bad, runner = [], []
for o in gc.get_objects():
    if type(o).__name__.startswith("Js"):
        for a in ("process", "require", "mainModule", "Reference", "ExternalCopy", "Buffer", "WebAssembly"):
            try:
                if hasattr(o, a): bad.append(a)
            except Exception:
                pass
    elif callable(o) and getattr(o, "__name__", "").startswith("__isobox"):
        runner.append(o.__name__)
    elif isinstance(o, str) and "s3cr3t-" in o:
        bad.append("secret")
[bad, sorted(set(runner))]`,
    });
    expect(r.status).toBe("ok");
    expect((r.value as unknown[])[0]).toEqual([]);
  });

  it("inspect.stack() / sys._getframe() reach the runner's frames: only the job's own data is there", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import sys\nf, out = sys._getframe(), []\nwhile f:\n    out.append([f.f_code.co_filename, f.f_code.co_name, sorted(f.f_locals)[:20], [repr(v)[:200] for v in f.f_locals.values()]])\n    f = f.f_back\nout",
      env: { JOB_ENV: "job" },
    });
    expect(r.status).toBe("ok");
    const frames = r.value as Array<[string, string, string[], string[]]>;
    expect(frames[0]!.slice(0, 2)).toEqual(["main.py", "<module>"]);
    for (const [file] of frames) expect(file).toMatch(/^(main\.py|<exec>|\/lib\/python[\w.]*\/)/);
  });

  it("writing through a runner frame's f_locals (max_value_bytes = 10**12) does not lift the host's value cap", async () => {
    const { r } = await pyAttack(sandbox, {
      code: "import sys\nf = sys._getframe()\nwhile f:\n    if 'max_value_bytes' in f.f_locals:\n        f.f_locals['max_value_bytes'] = 10**12\n    f = f.f_back\n'x' * 20_000_000",
      limits: { timeoutMs: 5000, maxOutputBytes: 1000 },
    });
    expect(r.status).toBe("output_limit");
    expect(r.value).toBeUndefined();
  });
});

it("after all these attacks a JavaScript job and a Python job still run", async () => {
  await expectHealthy(sandbox);
  await expectPyHealthy(sandbox);
});
