// Python guests, while Pyodide boots: its loader takes the "shell" path (the read/readbuffer globals
// here serve only Pyodide's assets, never fetch), WebAssembly compiles synchronously, and every
// growth of WebAssembly memory is checked against the job's cap. The loader's globals go once the
// interpreter is up; WebAssembly goes with the lockdown (lockdown.js).
const PAGE = 65536;
const LOADER_GLOBALS = ["read", "readbuffer", "load", "WorkerGlobalScope"];

// Threat: WebAssembly memory is outside isolated-vm's memoryLimit. Every grow is checked here;
// Python then gets MemoryError (Emscripten treats a failed grow as out of memory). A function
// table's entries are host memory too (measured: ~30 bytes each; Pyodide boots with ~14,000), and
// `pyodide_js._module.wasmTable` is reachable from Python: its growth is charged against the same
// cap, so a 9,000,000-entry grow is refused instead of wedging the thread for the wall clock.
const TABLE_ENTRY_BYTES = 32;

function capMemoryGrowth(W) {
  let memoryCap = Infinity;
  let refused = false;
  const refuse = (what) => {
    refused = true;
    return new $RangeError(what + ": over the job's memory limit");
  };
  const grow = W.Memory.prototype.grow;
  W.Memory.prototype.grow = function (pages) {
    const n = $Number(pages); // coerced once: a valueOf that answers differently twice gets nowhere
    if (this.buffer.byteLength + n * PAGE > memoryCap) throw refuse("WebAssembly.Memory.grow()");
    return $Reflect_apply(grow, this, [n]);
  };
  const growTable = W.Table.prototype.grow;
  W.Table.prototype.grow = function (entries, ...rest) {
    const n = $Number(entries);
    if ((this.length + n) * TABLE_ENTRY_BYTES > memoryCap) throw refuse("WebAssembly.Table.grow()");
    return $Reflect_apply(growTable, this, [n, ...rest]);
  };
  return {
    /** Each run's cap; a refusal of the run before is forgotten. */
    set(bytes) {
      memoryCap = bytes;
      refused = false;
    },
    /** Whether a growth was refused during this run (a job that raised on it ended out of memory). */
    refused: () => refused,
  };
}

// Async compilation of a large module never completes in isolated-vm (laverdet/isolated-vm#308).
// `marker` stands for the interpreter's own module, compiled once per thread (see installBootShims).
function compileSynchronously(W, marker, interpreterModule) {
  W.compile = (bytes) => $Promise_resolve(new W.Module(bytes));
  W.instantiate = (source, imports) => {
    if (source === marker || (ArrayBuffer.isView(source) && source.buffer === marker)) {
      const module = interpreterModule();
      return $Promise_resolve({ module, instance: new W.Instance(module, imports) });
    }
    if (source instanceof W.Module) return $Promise_resolve(new W.Instance(source, imports));
    const module = new W.Module(source);
    return $Promise_resolve({ module, instance: new W.Instance(module, imports) });
  };
}

/**
 * Install the shims; `asset` is the host's door to Pyodide's files. The interpreter's WebAssembly
 * module is compiled once per thread and shared (boot's `wasm`, see usePrecompiled), so its 10 MB
 * of bytes are not copied in: the loader reads a marker that instantiate() recognises.
 */
function installBootShims(asset) {
  const W = WebAssembly;
  let precompiled = null;
  const WASM_MARKER = new ArrayBuffer(8);
  const isInterpreterWasm = (path) => $String(path).endsWith("/pyodide.asm.wasm");
  // Emscripten's shell mode would otherwise seed its RNG through d8's os.system.
  defineGlobal("WorkerGlobalScope", function WorkerGlobalScope() {});
  defineGlobal("read", (path, mode) => (mode === "binary" ? asset($String(path), true) : asset($String(path), false)));
  defineGlobal("readbuffer", (path) => (precompiled && isInterpreterWasm(path) ? WASM_MARKER : asset($String(path), true).buffer));
  defineGlobal("load", (path) => {
    throw new $Error("load() is not available: " + path);
  });
  compileSynchronously(W, WASM_MARKER, () => precompiled);
  const memoryCap = capMemoryGrowth(W);
  return {
    W,
    memoryCap,
    usePrecompiled(wasm) {
      if (wasm instanceof W.Module) precompiled = wasm;
    },
    /** After boot: no guest may read Pyodide's assets, or run d8-style loads, through them. */
    removeLoaderGlobals() {
      for (const name of LOADER_GLOBALS) delete globalThis[name];
    },
  };
}
