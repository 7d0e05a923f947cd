// Python guests: Pyodide is booted inside the isolate from host-served assets (python-shims.js) or
// restored from a snapshot image (python-restore.js), then locked down like every guest
// (lockdown.js) before any job code runs; each run goes through a small Python runner (python-run.js).

// The runner's code object is compiled into the snapshot: CPython's compiler takes ~40 ms for it in
// a fresh interpreter. Used only if it was compiled from this very source (a snapshot cached by an
// older checkout of the same version must not run an older runner); compiled here otherwise.
const COMPILE_RUNNER =
  "import sys\nsys._isobox_runner = (__isobox_source, compile(__isobox_source, '<exec>', 'exec'))\ndel sys, __isobox_source";
const RUN_RUNNER =
  "import sys\n_c = sys.__dict__.pop('_isobox_runner', None)\n_c = _c[1] if _c and _c[0] == __isobox_source else compile(__isobox_source, '<exec>', 'exec')\ndel sys, __isobox_source\nexec(_c)\ndel _c";

/** Pyodide's loader options: cold, for taking a snapshot ("make"), or restoring the given image. */
function pyodideOptions(bridge, W, createPyodideModule, lockFileContents, snapshot, pages, layout) {
  const options = {
    indexURL: "/pyodide/",
    lockFileContents,
    createPyodideModule,
    stdout: (s) => bridge.write(1, s + "\n"),
    stderr: (s) => bridge.write(2, s + "\n"),
  };
  if (snapshot === "make") options._makeSnapshot = true;
  else if (snapshot) {
    options._loadSnapshot = new Uint8Array(snapshot);
    options.createPyodideModule = restoringImage(W, createPyodideModule, options._loadSnapshot.byteLength, pages, layout);
  }
  return options;
}

/** A clean interpreter's memory snapshot, the runner's code object compiled into it. */
function takeSnapshot(bridge, pyodide) {
  pyodide.globals.set("__isobox_source", bridge.runnerSource);
  pyodide.runPython(COMPILE_RUNNER);
  return pyodide.makeMemorySnapshot();
}

/** The snapshot's pages have been copied into the interpreter's memory: do not keep them alive too. */
function dropSnapshotCopy(pyodide, options) {
  options._loadSnapshot = options.createPyodideModule = undefined;
  try {
    if (pyodide._api && pyodide._api.config) pyodide._api.config._loadSnapshot = pyodide._api.config.createPyodideModule = undefined;
  } catch {
    /* internal shape changed */
  }
}

/** Run the runner with the modules it imports, take its entry points off the globals, arm the soft stop. */
function startRunner(bridge, pyodide, interrupt) {
  // The runner's import hook asks for offline wheels through this module (wheel files of the lock only).
  pyodide.registerJsModule("_isobox_wheels", { index: bridge.wheelIndex, fetch: (file) => bridge.asset("wheels/" + $String(file), true) });
  // Capability calls block the interpreter until the host answers (see src/pool/calls.ts).
  pyodide.registerJsModule("_isobox_calls", {
    call: (kind, name, argsJson) => bridge.call($String(kind), $String(name), $String(argsJson)),
  });
  pyodide.globals.set("__isobox_source", bridge.runnerSource);
  pyodide.runPython(RUN_RUNNER);
  // Soft stop: the host sets slot 0 to 2 (SIGINT) at the deadline; Python raises KeyboardInterrupt.
  if (interrupt) pyodide.setInterruptBuffer(new Int32Array(interrupt, 0, 1));
  const take = (name) => {
    const fn = pyodide.globals.get(name);
    pyodide.globals.delete(name);
    return fn;
  };
  return { run: take("__isobox_run"), runSync: take("__isobox_run_sync"), begin: take("__isobox_begin") };
}

function installPython(bridge) {
  const { timers, uncaught } = installWebGlobals(bridge);
  const shims = installBootShims(bridge.asset);
  let runs = null;
  async function boot(loadPyodide, createPyodideModule, lockFileContents, wasm, interrupt, snapshot, pages, layout) {
    shims.usePrecompiled(wasm);
    const options = pyodideOptions(bridge, shims.W, createPyodideModule, lockFileContents, snapshot, pages, layout);
    const pyodide = await loadPyodide(options);
    if (snapshot === "make") return takeSnapshot(bridge, pyodide);
    dropSnapshotCopy(pyodide, options);
    snapshot = pages = layout = undefined;
    rekeyExpatSalt(pyodide);
    runs = makePythonRun(bridge, pyodide, startRunner(bridge, pyodide, interrupt), timers, uncaught, shims.memoryCap);
    shims.removeLoaderGlobals();
    // The same locks as a JavaScript guest's (lockdown.js), WebAssembly's included: from here on
    // Pyodide runs on its own references. Before any job code, for a cold and a restored interpreter
    // alike; a session's interpreter keeps them for all its runs.
    lockdown();
    return undefined;
  }
  const booted = () => {
    if (!runs) throw new $Error("isobox: the interpreter has not booted");
    return runs;
  };
  // Called by the host for an interpreter that will wait in the pool, once boot() has returned (only
  // then are its arguments unreferenced): an idle isolate may keep its boot garbage for a long time
  // (measured: 50 -> 46.5 MB resident per interpreter, for ~30 ms of full GC).
  const collect = () => {
    if ($gc) $gc();
  };
  return record({
    boot,
    collect,
    start: (spec) => booted().start(spec),
    poll: () => booted().poll(),
    wait: () => booted().wait(),
    fire: timers.fire,
  });
}

return installPython(bridge);
