// The job's virtual filesystem (JavaScript guests): a map of paths to bytes inside the isolate, so it
// is charged to the isolate's memoryLimit and disposed with it. There is no host filesystem behind it
// (threat: path tricks reaching host files): `..` stops at the virtual root, like POSIX's `/..`.
// `import { readFile, writeFile, … } from "isobox:fs"` gets the promise API built here.
const HOME = "/home/user";
const OUTPUT = HOME + "/output";

function vfsError(code, syscall, path, text) {
  const e = new $Error(code + ": " + text + ", " + syscall + " '" + path + "'");
  e.code = code;
  e.syscall = syscall;
  e.path = path;
  return e;
}

/** An absolute, normalised path; relative ones are resolved against the cwd (/home/user). */
function resolvePath(path) {
  if (typeof path !== "string") {
    if (path !== null && typeof path === "object" && typeof path.href === "string" && $slice(path.href, 0, 7) === "file://")
      path = $slice(path.pathname, 0);
    else throw new $TypeError('The "path" argument must be of type string');
  }
  if ($includes(path, "\u0000")) throw new $TypeError('The "path" argument must not contain null bytes');
  if (path.length > 4096) throw vfsError("ENAMETOOLONG", "open", $slice(path, 0, 64) + "…", "name too long");
  const parts = $split(path[0] === "/" ? path : HOME + "/" + path, "/");
  const out = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (out.length) out.length--;
      continue;
    }
    if (p.length > 255) throw vfsError("ENAMETOOLONG", "open", path, "name too long");
    out[out.length] = p;
  }
  let abs = "";
  for (let i = 0; i < out.length; i++) abs += "/" + out[i];
  return abs || "/";
}

function parentOf(abs) {
  const i = abs.lastIndexOf("/");
  return i <= 0 ? "/" : $slice(abs, 0, i);
}

function dataBytes(data, encoding) {
  if (typeof data === "string") {
    if (encoding === "base64") return atobBytes(data);
    return new TextEncoder().encode(data);
  }
  if (data instanceof ArrayBuffer) return new $Uint8Array(data).slice();
  if (ArrayBuffer.isView(data)) return new $Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  throw new $TypeError('The "data" argument must be a string, Uint8Array or ArrayBuffer');
}

function atobBytes(text) {
  const bin = atob(text);
  const bytes = new $Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function encodingOf(options) {
  if (typeof options === "string") return options;
  if (options !== null && typeof options === "object" && typeof options.encoding === "string") return options.encoding;
  return null;
}

/**
 * The tree itself: absolute path → { dir: true } | { bytes: Uint8Array }, plus mtimeMs. Every write
 * goes through put() or mkdirOne(), every removal through remove(), so the caps are kept in one place.
 */
function makeVfsStore(maxBytes, maxEntries) {
  const nodes = new $Map();
  let used = 0;
  const now = () => $Date_now();
  for (const d of ["/", "/home", HOME, OUTPUT, "/tmp"]) nodes.set(d, { dir: true, mtimeMs: now() });

  function need(abs, syscall) {
    const n = nodes.get(abs);
    if (!n) throw vfsError("ENOENT", syscall, abs, "no such file or directory");
    return n;
  }
  function parentDir(abs, syscall) {
    const p = nodes.get(parentOf(abs));
    if (!p) throw vfsError("ENOENT", syscall, abs, "no such file or directory");
    if (!p.dir) throw vfsError("ENOTDIR", syscall, abs, "not a directory");
  }
  function children(abs) {
    const prefix = abs === "/" ? "/" : abs + "/";
    const names = [];
    nodes.forEach((_, key) => {
      if (key !== abs && $slice(key, 0, prefix.length) === prefix && !$includes($slice(key, prefix.length), "/"))
        names[names.length] = $slice(key, prefix.length);
    });
    return names.sort();
  }
  // Threat: a guest filling host memory or the harvest through the filesystem: bytes and entries capped.
  function checkRoom(abs, growth, syscall) {
    if (used + growth > maxBytes)
      throw vfsError("ENOSPC", syscall, abs, "no space left on device (the job's maxFsBytes is " + maxBytes + ")");
  }
  function put(abs, bytes, syscall) {
    const old = nodes.get(abs);
    if (old && old.dir) throw vfsError("EISDIR", syscall, abs, "illegal operation on a directory");
    parentDir(abs, syscall);
    const growth = bytes.byteLength - (old ? old.bytes.byteLength : 0);
    checkRoom(abs, growth, syscall);
    if (!old && nodes.size >= maxEntries) throw vfsError("ENOSPC", syscall, abs, "too many files (at most " + maxEntries + ")");
    used += growth;
    nodes.set(abs, { bytes, mtimeMs: now() });
  }
  function mkdirOne(abs) {
    if (!nodes.has(abs) && nodes.size >= maxEntries) throw vfsError("ENOSPC", "mkdir", abs, "too many files (at most " + maxEntries + ")");
    nodes.set(abs, { dir: true, mtimeMs: now() });
  }
  function remove(abs) {
    const n = nodes.get(abs);
    if (n && !n.dir) used -= n.bytes.byteLength;
    nodes.delete(abs);
  }
  /** Every path under `abs` (not `abs` itself). */
  function below(abs) {
    const prefix = abs + "/";
    const out = [];
    nodes.forEach((_, key) => {
      if ($slice(key, 0, prefix.length) === prefix) out[out.length] = key;
    });
    return out;
  }
  const setMaxBytes = (max) => {
    maxBytes = max;
  };
  return { nodes, need, parentDir, children, checkRoom, put, mkdirOne, remove, below, setMaxBytes };
}

/** readFile, writeFile and appendFile of `isobox:fs`. */
function vfsFileOps(store) {
  return {
    async readFile(path, options) {
      const abs = resolvePath(path);
      const n = store.need(abs, "open");
      if (n.dir) throw vfsError("EISDIR", "read", abs, "illegal operation on a directory");
      const enc = encodingOf(options);
      if (enc === "utf8" || enc === "utf-8") return new TextDecoder().decode(n.bytes);
      if (enc === "base64") {
        let s = "";
        for (let i = 0; i < n.bytes.length; i++) s += $String.fromCharCode(n.bytes[i]);
        return btoa(s);
      }
      if (enc) throw new $TypeError("Unsupported encoding: " + enc);
      return n.bytes.slice();
    },
    async writeFile(path, data, options) {
      const abs = resolvePath(path);
      store.put(abs, dataBytes(data, encodingOf(options)), "open");
    },
    async appendFile(path, data, options) {
      const abs = resolvePath(path);
      const extra = dataBytes(data, encodingOf(options));
      const old = store.nodes.get(abs);
      if (old && old.dir) throw vfsError("EISDIR", "open", abs, "illegal operation on a directory");
      const prev = old ? old.bytes : new $Uint8Array(0);
      store.checkRoom(abs, extra.byteLength, "write");
      const bytes = new $Uint8Array(prev.byteLength + extra.byteLength);
      bytes.set(prev, 0);
      bytes.set(extra, prev.byteLength);
      store.put(abs, bytes, "open");
    },
  };
}

/** mkdir and readdir of `isobox:fs`. */
function vfsDirOps(store) {
  return {
    async mkdir(path, options) {
      const abs = resolvePath(path);
      const recursive = !!(options && options.recursive);
      const existing = store.nodes.get(abs);
      if (existing) {
        if (recursive && existing.dir) return undefined;
        throw vfsError("EEXIST", "mkdir", abs, "file already exists");
      }
      if (!recursive) {
        store.parentDir(abs, "mkdir");
        store.mkdirOne(abs);
        return undefined;
      }
      const parts = $split($slice(abs, 1), "/");
      let cur = "";
      let first;
      for (let i = 0; i < parts.length; i++) {
        cur += "/" + parts[i];
        const n = store.nodes.get(cur);
        if (n && !n.dir) throw vfsError("ENOTDIR", "mkdir", abs, "not a directory");
        if (!n) {
          store.mkdirOne(cur);
          first ??= cur;
        }
      }
      return first;
    },
    async readdir(path, options) {
      const abs = resolvePath(path);
      const n = store.need(abs, "scandir");
      if (!n.dir) throw vfsError("ENOTDIR", "scandir", abs, "not a directory");
      const names = store.children(abs);
      if (!(options && options.withFileTypes)) return names;
      return names.map((name) => {
        const dir = !!store.nodes.get((abs === "/" ? "" : abs) + "/" + name).dir;
        return $Object_freeze({ name, isFile: () => !dir, isDirectory: () => dir });
      });
    },
  };
}

/** stat, access, rm, unlink and rename of `isobox:fs`. */
function vfsEntryOps(store) {
  return {
    async stat(path) {
      const abs = resolvePath(path);
      const n = store.need(abs, "stat");
      const dir = !!n.dir;
      return $Object_freeze({
        size: dir ? 0 : n.bytes.byteLength,
        mtimeMs: n.mtimeMs,
        mtime: new Date(n.mtimeMs),
        isFile: () => !dir,
        isDirectory: () => dir,
      });
    },
    async access(path) {
      store.need(resolvePath(path), "access");
    },
    async rm(path, options) {
      const abs = resolvePath(path);
      const n = store.nodes.get(abs);
      if (!n) {
        if (options && options.force) return;
        throw vfsError("ENOENT", "rm", abs, "no such file or directory");
      }
      if (n.dir) {
        if (!(options && options.recursive)) throw vfsError("ERR_FS_EISDIR", "rm", abs, "Path is a directory");
        if (abs === "/" || abs === HOME || abs === OUTPUT) throw vfsError("EPERM", "rm", abs, "operation not permitted");
        const doomed = store.below(abs);
        for (let i = 0; i < doomed.length; i++) store.remove(doomed[i]);
      }
      store.remove(abs);
    },
    async unlink(path) {
      const abs = resolvePath(path);
      const n = store.need(abs, "unlink");
      if (n.dir) throw vfsError("EISDIR", "unlink", abs, "illegal operation on a directory");
      store.remove(abs);
    },
    async rename(from, to) {
      const a = resolvePath(from);
      const b = resolvePath(to);
      const n = store.need(a, "rename");
      if (n.dir) throw vfsError("EISDIR", "rename", a, "renaming directories is not supported");
      store.put(b, n.bytes, "rename");
      if (a !== b) store.remove(a);
    },
  };
}

function makeVfs(maxBytes, maxEntries) {
  const store = makeVfsStore(maxBytes, maxEntries);
  // One null-prototype object of functions, in the order Object.keys(fs) shows: guest code gets
  // functions, never the map.
  const api = record({});
  const groups = [vfsFileOps(store), vfsDirOps(store), vfsEntryOps(store)];
  for (let g = 0; g < groups.length; g++) {
    const names = $Object_keys(groups[g]);
    for (let i = 0; i < names.length; i++) api[names[i]] = groups[g][names[i]];
  }

  /** Files under /home/user/output, for the job's result: [path relative to /home/user, bytes]. */
  function harvest() {
    const out = [];
    const prefix = OUTPUT + "/";
    store.nodes.forEach((n, key) => {
      if (!n.dir && $slice(key, 0, prefix.length) === prefix)
        out[out.length] = record({ path: $slice(key, HOME.length + 1), bytes: n.bytes });
    });
    return out;
  }
  /** A session's next run: the output folder starts empty, the new run's cap applies. */
  function beginRun(max) {
    store.setMaxBytes(max);
    const doomed = store.below(OUTPUT);
    for (let i = 0; i < doomed.length; i++) store.remove(doomed[i]);
  }
  function load(files) {
    for (let i = 0; i < files.length; i++) {
      const abs = HOME + "/" + files[i].path;
      const parent = parentOf(abs);
      if (!store.nodes.has(parent)) api.mkdir(parent, { recursive: true });
      store.put(abs, files[i].bytes, "open");
    }
  }
  return { api: $Object_freeze(api), harvest, load, beginRun };
}
