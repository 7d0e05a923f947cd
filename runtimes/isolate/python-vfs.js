// The job's files for Python guests: Pyodide's in-memory filesystem (Emscripten MEMFS, held in the
// isolate's heap, so charged to its memoryLimit and gone with it). The job's files are written under
// /home/user (the cwd), what it leaves in /home/user/output is harvested, and writes are held to the
// job's maxFsBytes and an entry count (threat: a guest filling memory or the harvest through files).
const PY_HOME = "/home/user";
const PY_OUTPUT = PY_HOME + "/output";
const PY_MAX_ENTRIES = 10000;
const O_APPEND = 1024;
// Emscripten numbers errors as WASI does: 51 is ENOSPC (28 would be EINVAL).
const ENOSPC = 51;
/** Harvest walks at most this many entries (threat: a folder of a million names stalling the host). */
const PY_MAX_SCANNED = 20000;

/** The regular file at `target` (a path or a node), else null. */
function pyFileNode(FS, target) {
  try {
    const node = typeof target === "string" ? FS.lookupPath(target, { follow: false }).node : target;
    return node && FS.isFile(node.mode) ? node : null;
  } catch {
    return null;
  }
}
const pyFileSize = (node) => (node && node.usedBytes) || 0;

/** Bytes: a write or truncate that would take the files past the run's cap fails with ENOSPC. */
function capPythonFileBytes(FS, budget) {
  const write = FS.write;
  FS.write = function (stream, buffer, offset, length, position, canOwn) {
    const node = stream && stream.node;
    if (node && FS.isFile(node.mode)) {
      const at = stream.flags & O_APPEND ? pyFileSize(node) : typeof position === "number" ? position : stream.position;
      const growth = $Math_max(0, at + length - pyFileSize(node));
      if (budget.used + growth > budget.maxBytes) throw new FS.ErrnoError(ENOSPC);
      const written = $Reflect_apply(write, this, [stream, buffer, offset, length, position, canOwn]);
      budget.used += growth;
      return written;
    }
    return $Reflect_apply(write, this, [stream, buffer, offset, length, position, canOwn]);
  };
  // Every size change by truncate goes through doTruncate: truncate(path), ftruncate(fd) (os.ftruncate,
  // file.truncate) and fallocate (which ftruncates). Wrapping FS.truncate alone missed the last two.
  const doTruncate = FS.doTruncate;
  FS.doTruncate = function (stream, node, len) {
    const file = pyFileNode(FS, node);
    const before = pyFileSize(file);
    if (file && len > before && budget.used + (len - before) > budget.maxBytes) throw new FS.ErrnoError(ENOSPC);
    const r = $Reflect_apply(doTruncate, this, [stream, node, len]);
    if (file) budget.used = $Math_max(0, budget.used + pyFileSize(file) - before);
    return r;
  };
}

/** Entries: made by mknod and symlink (at most PY_MAX_ENTRIES), given back (with their bytes) by unlink, rmdir and rename. */
function capPythonEntries(FS, budget) {
  const unlink = FS.unlink;
  FS.unlink = function (path) {
    const node = pyFileNode(FS, path);
    const r = $Reflect_apply(unlink, this, [path]);
    budget.used = $Math_max(0, budget.used - pyFileSize(node));
    budget.entries = $Math_max(0, budget.entries - 1);
    return r;
  };
  const rmdir = FS.rmdir;
  FS.rmdir = function (path) {
    const r = $Reflect_apply(rmdir, this, [path]);
    budget.entries = $Math_max(0, budget.entries - 1);
    return r;
  };
  const rename = FS.rename;
  FS.rename = function (from, to) {
    const replaced = pyFileNode(FS, to);
    const r = $Reflect_apply(rename, this, [from, to]);
    if (replaced && replaced !== pyFileNode(FS, to)) budget.used = $Math_max(0, budget.used - pyFileSize(replaced));
    return r;
  };
  const mknod = FS.mknod;
  FS.mknod = function (path, mode, dev) {
    if (budget.entries >= PY_MAX_ENTRIES) throw new FS.ErrnoError(ENOSPC);
    const r = $Reflect_apply(mknod, this, [path, mode, dev]);
    budget.entries++;
    return r;
  };
  const symlink = FS.symlink;
  FS.symlink = function (target, path) {
    if (budget.entries >= PY_MAX_ENTRIES) throw new FS.ErrnoError(ENOSPC);
    const r = $Reflect_apply(symlink, this, [target, path]);
    budget.entries++;
    return r;
  };
}

function pyExists(FS, path) {
  try {
    FS.lookupPath(path, { follow: false });
    return true;
  } catch {
    return false;
  }
}
function pyRemoveTree(FS, path) {
  const names = FS.readdir(path);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name === "." || name === "..") continue;
    const child = path + "/" + name;
    if (FS.isDir(FS.lstat(child).mode)) {
      pyRemoveTree(FS, child);
      FS.rmdir(child);
    } else FS.unlink(child);
  }
}

/** Before a run: the cap for this run, an empty output folder, the job's files, cwd /home/user. */
function beginPythonFiles(FS, budget, files, maxFsBytes) {
  budget.maxBytes = maxFsBytes;
  if (pyExists(FS, PY_OUTPUT)) pyRemoveTree(FS, PY_OUTPUT);
  FS.mkdirTree(PY_OUTPUT);
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    const abs = PY_HOME + "/" + f.path;
    const slash = abs.lastIndexOf("/");
    FS.mkdirTree($slice(abs, 0, slash));
    FS.writeFile(abs, f.bytes);
  }
  FS.chdir(PY_HOME);
}

/**
 * The filesystem functions the harvest calls, captured at boot, before any job runs (threat: a job
 * replacing pyodide_js.FS.readFile with one returning 1-byte views of the wasm memory, each view's
 * buffer the whole ~220 MB memory, copied to the host once per file).
 */
function pyHarvestOps(FS) {
  const bind =
    (fn) =>
    (...args) =>
      $Reflect_apply(fn, FS, args);
  return record({
    readdir: bind(FS.readdir),
    lstat: bind(FS.lstat),
    readFile: bind(FS.readFile),
    isDir: bind(FS.isDir),
    isFile: bind(FS.isFile),
  });
}

/** A file's length as readFile gave it, or -1 if that is not a Uint8Array (the getter throws for those). */
function pyBytesLength(data) {
  if (!data || $Object_getPrototypeOf(data) !== $Uint8Array.prototype) return -1;
  return $Reflect_apply($TypedArray_length, data, []);
}

/**
 * Regular files under /home/user/output, never through a symlink: [path relative to /home/user, bytes].
 * At most `maxBytes` bytes in all are copied (more cannot have been written under the job's cap; past
 * it, what the FS returns is forged), so a forged FS cannot make the harvest large either.
 */
function harvestPythonFiles(ops, maxBytes) {
  const out = [];
  const stack = [PY_OUTPUT];
  let scanned = 0;
  let total = 0;
  while (stack.length) {
    const dir = stack.pop();
    let names;
    try {
      names = ops.readdir(dir);
    } catch {
      continue;
    }
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name === "." || name === "..") continue;
      if (++scanned > PY_MAX_SCANNED) return out;
      const path = dir + "/" + name;
      const st = ops.lstat(path);
      if (ops.isDir(st.mode)) stack[stack.length] = path;
      else if (ops.isFile(st.mode)) {
        const data = ops.readFile(path);
        const length = pyBytesLength(data);
        if (length < 0) continue;
        total += length;
        if (total > maxBytes) return out;
        // A fresh buffer of exactly the file's bytes, never the view handed back or its buffer.
        out[out.length] = record({ path: $slice(path, PY_HOME.length + 1), bytes: new $Uint8Array(data) });
      }
      // symlinks and devices are skipped (threat: output/x -> /lib/python… or a loop)
    }
  }
  return out;
}

function makePythonFiles(FS) {
  const budget = record({ maxBytes: 0, used: 0, entries: 0 });
  const ops = pyHarvestOps(FS);
  capPythonFileBytes(FS, budget);
  capPythonEntries(FS, budget);
  return {
    begin: (files, maxFsBytes) => beginPythonFiles(FS, budget, files, maxFsBytes),
    harvest: () => harvestPythonFiles(ops, budget.maxBytes),
  };
}
