// Python guests restored from a snapshot image (src/python/snapshot-image.ts): Pyodide's loader gets
// only the snapshot's header and sizes the memory for the whole snapshot; its restore then validates
// the header (magic, build id) and writeImage writes just the non-zero pages. The zero pages stay
// untouched, so the kernel never commits them. Any of them the module's start-up already wrote to is
// cleared (found with a small scanner module: a JavaScript loop over 15 MB would cost ~20 ms per restore).

/** Pyodide's createPyodideModule, wrapped to restore the image's pages into the new module's memory. */
function restoringImage(W, createPyodideModule, headerBytes, pages, layout) {
  let image = { pages, layout }; // dropped once written: the interpreter lives on, these 15 MB need not
  return async (settings) => {
    settings.INITIAL_MEMORY = headerBytes + layout.memoryBytes;
    const module = await createPyodideModule(settings);
    const restoreHeader = module.API.restoreSnapshot;
    module.API.restoreSnapshot = (header) => {
      const state = restoreHeader(header); // the header carries no memory bytes: writes nothing
      writeImage(W, module.wasmMemory ?? module.memory, new Uint8Array(image.pages), image.layout);
      image.pages.transfer(0); // detached: its 15 MB are freed now, not at the next full GC
      image = null;
      module.API.restoreSnapshot = restoreHeader;
      return state;
    };
    return module;
  };
}

// i32 scan(from, to): the first address in [from, to) whose 8-byte word is not zero, else `to`.
const SCANNER = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 127, 127, 1, 127, 2, 8, 1, 1, 109, 1, 109, 2, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 122, 0, 0, 10,
  38, 1, 36, 0, 2, 64, 3, 64, 32, 0, 32, 1, 79, 13, 1, 32, 0, 41, 3, 0, 66, 0, 82, 13, 1, 32, 0, 65, 8, 106, 33, 0, 12, 0, 11, 11, 32, 0,
  11,
]);

function writeImage(W, memory, pages, layout) {
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
  const fits = pyodide.runPython(
    "(lambda i: i.cutoff == 0 and i.algorithm in ('fnv', 'siphash13', 'siphash24'))(__import__('sys').hash_info)",
  );
  const at = pyodide._module.__Py_HashSecret;
  if (fits !== true || typeof at !== "number" || at <= 0) return;
  crypto.getRandomValues(pyodide._module.HEAPU8.subarray(at + 16, at + 24));
}
