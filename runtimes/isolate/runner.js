// The runner: waits for the guest module (including top-level await) through the entry hook, calls
// main(input, ctx), and hands back a null-prototype record holding only strings and numbers (threat:
// a poisoned Object.prototype/then hijacking the result envelope).
const MAX_ERROR_TEXT = 64 * 1024;

/** The stack without the prelude's own frames (plain loops: guest-poisoned array methods are not used). */
function ownFrames(stack) {
  const lines = $split(stack, "\n");
  let out = "";
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if ($includes(l, "isobox:prelude") || $includes(l, "isobox:entry")) continue;
    out += (out ? "\n" : "") + l;
  }
  return out;
}

function describeError(e) {
  if ((typeof e === "object" && e !== null) || typeof e === "function") {
    let name = "Error",
      message = "",
      stack;
    try {
      name = safeString(e.name);
    } catch {}
    try {
      message = safeString(e.message);
    } catch {}
    try {
      if (typeof e.stack === "string") stack = e.stack;
    } catch {}
    if (stack !== undefined) stack = $slice(ownFrames(stack), 0, MAX_ERROR_TEXT);
    name = $slice(name, 0, 256);
    message = $slice(message, 0, MAX_ERROR_TEXT);
    return record(stack === undefined ? { name, message } : { name, message, stack });
  }
  let text;
  try {
    text = inspect(e, 1, []);
  } catch {
    text = "[unprintable]";
  }
  return record({ name: "Error", message: $slice("Uncaught " + text, 0, MAX_ERROR_TEXT) });
}

function encodeValue(value, maxBytes) {
  let json;
  try {
    json = $JSON_stringify(value);
  } catch (e) {
    return record({
      kind: "error",
      error: record({
        name: "TypeError",
        message: "The value returned by the job cannot be sent back as JSON: " + safeString(e && e.message),
      }),
    });
  }
  if (json === undefined) return record({ kind: "ok" });
  if (json.length > maxBytes) return record({ kind: "too_big", size: json.length });
  return record({ kind: "ok", json });
}

/**
 * The host's run spec (GuestRunSpec in src/contract/run-spec.ts), read field by field: own properties
 * of the expected type only (threat: a session's earlier run poisoned Object.prototype, and a field
 * absent from the copy would be read from there). A malformed spec fails the run before any of it.
 */
function readRunSpec(spec) {
  if (spec === null || typeof spec !== "object") throw new $TypeError("isobox: the run spec is not an object");
  const field = (name, type, optional) => {
    const value = $hasOwn(spec, name) ? spec[name] : undefined;
    if (value === undefined && optional) return undefined;
    if (typeof value !== type) throw new $TypeError("isobox: the run spec's " + name + " is not a " + type);
    return value;
  };
  const files = $hasOwn(spec, "files") ? spec.files : undefined;
  if (!$Array_isArray(files)) throw new $TypeError("isobox: the run spec's files is not an array");
  const list = [];
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    const path = f !== null && typeof f === "object" && $hasOwn(f, "path") ? f.path : undefined;
    const bytes = path !== undefined && $hasOwn(f, "bytes") ? f.bytes : undefined;
    if (typeof path !== "string" || !(bytes instanceof $Uint8Array))
      throw new $TypeError("isobox: the run spec's file " + i + " is malformed");
    list[i] = record({ path, bytes });
  }
  return record({
    code: field("code", "string", true),
    inputJson: field("inputJson", "string", true),
    envJson: field("envJson", "string"),
    jobId: field("jobId", "string"),
    maxValueBytes: field("maxValueBytes", "number"),
    memoryBytes: field("memoryBytes", "number"),
    capabilitiesJson: field("capabilitiesJson", "string"),
    files: list,
    maxFsBytes: field("maxFsBytes", "number"),
    session: field("session", "boolean"),
  });
}

/** Entries (files and folders) a job's virtual filesystem may hold. */
const MAX_FS_ENTRIES = 10000;

/**
 * The entry hook: the one per-guest, random-named global the entry module calls with the job's
 * namespace. The modules `isobox:host` and `isobox:fs` read theirs off it while they are evaluated,
 * before the job's own module body. Resolves with the job's namespace.
 */
function installEntryHook(entryName, capabilities, calls, fs) {
  let entryResolve;
  const entryDone = new $Promise((r) => {
    entryResolve = r;
  });
  const hook = (ns) => {
    entryResolve(ns);
    try {
      delete globalThis[entryName];
    } catch {
      /* a guest froze its global object: harmless */
    }
  };
  $Object_defineProperty(hook, "host", { get: () => makeHostNamespace(capabilities, calls.call) });
  $Object_defineProperty(hook, "fs", { get: () => fs().api });
  defineGlobal(entryName, hook);
  return entryDone;
}

/** Wait for the module, call main(input, ctx) (or take its default export), and make the envelope. */
async function runJob(entryDone, spec, timers, race) {
  try {
    const ns = await race(entryDone);
    const input = spec.inputJson === undefined ? undefined : $JSON_parse(spec.inputJson);
    const ctx = $Object_freeze({ jobId: spec.jobId, env: $Object_freeze($JSON_parse(spec.envJson)) });
    const main = typeof ns.main === "function" ? ns.main : typeof ns.default === "function" ? ns.default : null;
    let value;
    if (main) value = await race($Reflect_apply(main, undefined, [input, ctx]));
    else {
      value = ns.default;
      await race(timers.idle());
    }
    return encodeValue(value, spec.maxValueBytes);
  } catch (e) {
    return record({ kind: "error", error: describeError(e) });
  }
}

function makeRunner(entryName, timers, uncaught, calls) {
  const race = (p) =>
    new $Promise((resolve, reject) => {
      $then($Promise_resolve(p), resolve, reject);
      $then(uncaught, resolve, reject);
    });
  // The filesystem is made when first needed (job files, or an import of isobox:fs) and then
  // lives as long as the guest: one job, or every run of a session.
  let vfs = null;

  // The host starts `start` synchronously, then reads `poll()`; only if the job is still waiting
  // (timers, awaited work) does it pay for an asynchronous `wait()`. A session's guest is started
  // once per run: each run gets its own entry hook and envelope.
  let settled;
  let done;
  function start(rawSpec) {
    const spec = readRunSpec(rawSpec);
    settled = undefined;
    timers.reset();
    calls.abandon();
    let settle;
    done = new $Promise((r) => {
      settle = r;
    });
    const fs = () => {
      if (!vfs) vfs = makeVfs(spec.maxFsBytes, MAX_FS_ENTRIES);
      return vfs;
    };
    if (vfs) vfs.beginRun(spec.maxFsBytes);
    if (spec.files.length) fs().load(spec.files);
    const capabilities = $JSON_parse(spec.capabilitiesJson);
    const entryDone = installEntryHook(entryName, capabilities, calls, fs);
    if (capabilities.fetch) defineGlobal("fetch", makeFetch(calls.call));
    const finish = (envelope) => {
      // Output files travel with the envelope (no second call into the isolate).
      if (vfs) {
        const out = vfs.harvest();
        if (out.length) envelope.files = out;
      }
      settled = envelope;
      settle(envelope);
    };
    $then(runJob(entryDone, spec, timers, race), finish);
  }
  return { start, poll: () => settled, wait: () => done };
}
