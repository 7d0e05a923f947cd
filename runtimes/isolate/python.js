// Python guests: Pyodide is booted from host-served assets (its loader takes the "shell" path: the
// read/readbuffer globals below, never fetch), and the job runs through a small Python runner.
// WebAssembly is wrapped so every memory growth is checked against the job's cap, then hidden.
const PAGE = 65536;

function installPython(bridge) {
  const { timers, uncaught } = installWebGlobals(bridge);
  // Emscripten's shell mode would otherwise seed its RNG through d8's os.system.
  defineGlobal("WorkerGlobalScope", function WorkerGlobalScope() {});
  // With the interpreter's WebAssembly module compiled once per thread and shared (boot's `wasm`),
  // its 10 MB of bytes are not copied in: the loader gets a marker that instantiate() recognises.
  let precompiled = null;
  const WASM_MARKER = new ArrayBuffer(8);
  const isInterpreterWasm = (path) => $String(path).endsWith("/pyodide.asm.wasm");
  defineGlobal("read", (path, mode) => (mode === "binary" ? bridge.asset($String(path), true) : bridge.asset($String(path), false)));
  defineGlobal("readbuffer", (path) => (precompiled && isInterpreterWasm(path) ? WASM_MARKER : bridge.asset($String(path), true).buffer));
  defineGlobal("load", (path) => { throw new $Error("load() is not available: " + path); });

  // Threat: WebAssembly memory is outside isolated-vm's memoryLimit. Every grow is checked here;
  // Python then gets MemoryError (Emscripten treats a failed grow as out of memory).
  const W = WebAssembly;
  let memoryCap = Infinity;
  const grow = W.Memory.prototype.grow;
  W.Memory.prototype.grow = function (pages) {
    const n = $Number(pages); // coerced once: a valueOf that answers differently twice gets nowhere
    if (this.buffer.byteLength + n * PAGE > memoryCap) throw new $RangeError("WebAssembly.Memory.grow(): over the job's memory limit");
    return $Reflect_apply(grow, this, [n]);
  };
  // Async compilation of a large module never completes in isolated-vm (laverdet/isolated-vm#308).
  W.compile = (bytes) => $Promise_resolve(new W.Module(bytes));
  W.instantiate = (source, imports) => {
    if (source === WASM_MARKER || (ArrayBuffer.isView(source) && source.buffer === WASM_MARKER)) {
      return $Promise_resolve({ module: precompiled, instance: new W.Instance(precompiled, imports) });
    }
    if (source instanceof W.Module) return $Promise_resolve(new W.Instance(source, imports));
    const module = new W.Module(source);
    return $Promise_resolve({ module, instance: new W.Instance(module, imports) });
  };

  // Restore from a snapshot image (src/python/snapshot-image.ts): Pyodide's loader gets only the
  // snapshot's header and sizes the memory for the whole snapshot; its restore then validates the
  // header (magic, build id) and this writes just the non-zero pages. The zero pages stay untouched,
  // so the kernel never commits them. Any of them the module's start-up already wrote to is cleared
  // (found with a small scanner module: a JavaScript loop over 15 MB would cost ~20 ms per restore).
  function restoringImage(createPyodideModule, headerBytes, pages, layout) {
    let image = { pages, layout }; // dropped once written: the interpreter lives on, these 15 MB need not
    return async (settings) => {
      settings.INITIAL_MEMORY = headerBytes + layout.memoryBytes;
      const module = await createPyodideModule(settings);
      const restoreHeader = module.API.restoreSnapshot;
      module.API.restoreSnapshot = (header) => {
        const state = restoreHeader(header); // the header carries no memory bytes: writes nothing
        writeImage(module.wasmMemory ?? module.memory, new Uint8Array(image.pages), image.layout);
        image.pages.transfer(0); // detached: its 15 MB are freed now, not at the next full GC
        image = null;
        module.API.restoreSnapshot = restoreHeader;
        return state;
      };
      return module;
    };
  }
  // i32 scan(from, to): the first address in [from, to) whose 8-byte word is not zero, else `to`.
  const SCANNER = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 127, 127, 1, 127, 2, 8, 1, 1, 109, 1, 109, 2, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 122, 0, 0, 10, 38, 1, 36, 0, 2, 64, 3, 64, 32, 0, 32, 1, 79, 13, 1, 32, 0, 41, 3, 0, 66, 0, 82, 13, 1, 32, 0, 65, 8, 106, 33, 0, 12, 0, 11, 11, 32, 0, 11]);
  function writeImage(memory, pages, layout) {
    const { runs } = layout;
    const heap = new Uint8Array(memory.buffer);
    if (heap.byteLength < layout.memoryBytes) throw new $Error("isobox: the interpreter's memory is smaller than the snapshot");
    const scan = new W.Instance(new W.Module(SCANNER), { m: { m: memory } }).exports.z;
    const clearDirty = (from, to) => {
      for (let at = scan(from, to); at < to; at = scan(at, to)) {
        const page = at - (at % 4096); // IMAGE_PAGE
        heap.fill(0, page, page + 4096);
        at = page + 4096;
      }
    };
    let from = 0;
    let at = 0;
    for (let i = 0; i < runs.length; i += 2) {
      clearDirty(at, runs[i]);
      heap.set(pages.subarray(from, from + runs[i + 1] - runs[i]), runs[i]);
      from += runs[i + 1] - runs[i];
      at = runs[i + 1];
    }
    clearDirty(at, heap.byteLength);
  }

  // CPython's hash secret is part of the snapshot, so the same in every interpreter. Its str/bytes
  // part cannot change after restore (see _keyed_hash in runner.py), but bytes 16-23 are read only as
  // expat's hash salt (made per XML parser) and as the suffix of the small-string hash, which is off
  // at cutoff 0: those are re-keyed per interpreter (threat: XML hash flooding precomputed once for
  // every job). Checked, not assumed: another hash layout leaves the secret alone.
  function rekeyExpatSalt(pyodide) {
    const fits = pyodide.runPython("(lambda i: i.cutoff == 0 and i.algorithm in ('fnv', 'siphash13', 'siphash24'))(__import__('sys').hash_info)");
    const at = pyodide._module.__Py_HashSecret;
    if (fits !== true || typeof at !== "number" || at <= 0) return;
    crypto.getRandomValues(pyodide._module.HEAPU8.subarray(at + 16, at + 24));
  }

  // The runner's code object is compiled into the snapshot: CPython's compiler takes ~40 ms for it in
  // a fresh interpreter. Used only if it was compiled from this very source (a snapshot cached by an
  // older checkout of the same version must not run an older runner); compiled here otherwise.
  const COMPILE_RUNNER = "import sys\nsys._isobox_runner = (__isobox_source, compile(__isobox_source, '<exec>', 'exec'))\ndel sys, __isobox_source";
  const RUN_RUNNER = "import sys\n_c = sys.__dict__.pop('_isobox_runner', None)\n_c = _c[1] if _c and _c[0] == __isobox_source else compile(__isobox_source, '<exec>', 'exec')\ndel sys, __isobox_source\nexec(_c)\ndel _c";

  let pyodide = null;
  let runner = null;
  let runnerSync = null;
  let beginRun = null;
  let files = null;
  async function boot(loadPyodide, createPyodideModule, lockFileContents, wasm, interrupt, snapshot, pages, layout) {
    if (wasm instanceof W.Module) precompiled = wasm;
    const options = { indexURL: "/pyodide/", lockFileContents, createPyodideModule, stdout: (s) => bridge.write(1, s + "\n"), stderr: (s) => bridge.write(2, s + "\n") };
    if (snapshot === "make") options._makeSnapshot = true;
    else if (snapshot) {
      options._loadSnapshot = new Uint8Array(snapshot);
      options.createPyodideModule = restoringImage(createPyodideModule, options._loadSnapshot.byteLength, pages, layout);
    }
    pyodide = await loadPyodide(options);
    if (snapshot === "make") {
      pyodide.globals.set("__isobox_source", bridge.runnerSource);
      pyodide.runPython(COMPILE_RUNNER);
      return pyodide.makeMemorySnapshot();
    }
    // The snapshot's pages have been copied into the interpreter's memory: do not keep them alive too.
    options._loadSnapshot = options.createPyodideModule = undefined;
    snapshot = pages = layout = undefined;
    try { if (pyodide._api && pyodide._api.config) pyodide._api.config._loadSnapshot = pyodide._api.config.createPyodideModule = undefined; } catch { /* internal shape changed */ }
    rekeyExpatSalt(pyodide);
    // The runner's import hook asks for offline wheels through this module (wheel files of the lock only).
    pyodide.registerJsModule("_isobox_wheels", { index: bridge.wheelIndex, fetch: (file) => bridge.asset("wheels/" + $String(file), true) });
    // Capability calls block the interpreter until the host answers (see src/pool/calls.ts).
    pyodide.registerJsModule("_isobox_calls", { call: (kind, name, argsJson) => bridge.call($String(kind), $String(name), $String(argsJson)) });
    pyodide.globals.set("__isobox_source", bridge.runnerSource);
    pyodide.runPython(RUN_RUNNER);
    files = makePythonFiles(pyodide.FS);
    // Soft stop: the host sets slot 0 to 2 (SIGINT) at the deadline; Python raises KeyboardInterrupt.
    if (interrupt) pyodide.setInterruptBuffer(new Int32Array(interrupt, 0, 1));
    runner = pyodide.globals.get("__isobox_run");
    runnerSync = pyodide.globals.get("__isobox_run_sync");
    beginRun = pyodide.globals.get("__isobox_begin");
    pyodide.globals.delete("__isobox_run");
    pyodide.globals.delete("__isobox_run_sync");
    pyodide.globals.delete("__isobox_begin");
    for (const name of ["read", "readbuffer", "load", "WorkerGlobalScope"]) delete globalThis[name];
    // The same locks as a JavaScript guest's (lockdown.js), WebAssembly's included: from here on
    // Pyodide runs on its own references. Before any job code, for a cold and a restored interpreter
    // alike; a session's interpreter keeps them for all its runs.
    lockdown();
    return undefined;
  }

  // An exception that escaped the runner itself (it ran out of memory while reporting, say).
  const pythonFailure = (e) => {
    let type = "";
    try { type = $String(e && e.type); } catch { /* unreadable */ }
    if (type === "MemoryError") return record({ kind: "memory" });
    const error = describeError(e);
    if (type && type !== "undefined") error.name = $slice(type, 0, 256); // KeyboardInterrupt at the deadline, say
    return record({ kind: "error", error });
  };
  // Per run: a session's interpreter is started once per run, each with its own envelope.
  let settled;
  let settle;
  let done;
  function start(rawSpec) {
    const spec = readRunSpec(rawSpec);
    if (spec.code === undefined) throw new $TypeError("isobox: a Python run spec has no code");
    memoryCap = spec.memoryBytes;
    settled = undefined;
    done = new $Promise((r) => { settle = r; });
    timers.reset();
    const finish = (envelope) => {
      // Output files travel with the envelope (no second call into the isolate); none after a MemoryError.
      if (envelope.kind !== "memory") { try { const out = files.harvest(); if (out.length) envelope.files = out; } catch { /* unreadable: no files */ } }
      settled = envelope;
      settle(envelope);
    };
    let promise;
    try {
      files.begin(spec.files, spec.maxFsBytes);
      beginRun(spec.capabilitiesJson, spec.session);
      pyodide.setStdout({ batched: (s) => bridge.write(1, s + "\n") });
      pyodide.setStderr({ batched: (s) => bridge.write(2, s + "\n") });
      const now = runnerSync(spec.code, spec.inputJson, spec.envJson, spec.jobId, spec.maxValueBytes); // undefined input arrives as None
      if (typeof now === "string") { finish(record($JSON_parse(now))); return; }
      promise = runner(spec.code, spec.inputJson, spec.envJson, spec.jobId, spec.maxValueBytes);
    } catch (e) {
      finish(pythonFailure(e));
      return;
    }
    const race = new $Promise((resolve, reject) => { $then($Promise_resolve(promise), resolve, reject); $then(uncaught, resolve, reject); });
    $then(race, (json) => {
      const r = $JSON_parse(json);
      finish(record(r));
    }, (e) => finish(pythonFailure(e)));
  }
  // Called by the host for an interpreter that will wait in the pool, once boot() has returned (only
  // then are its arguments unreferenced): an idle isolate may keep its boot garbage for a long time
  // (measured: 50 -> 46.5 MB resident per interpreter, for ~30 ms of full GC).
  const collect = () => { if ($gc) $gc(); };
  return record({ boot, collect, start, poll: () => settled, wait: () => done, fire: timers.fire });
}

return installPython(bridge);
