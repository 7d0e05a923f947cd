// The runner: waits for the guest module (including top-level await) through the entry hook, calls
// main(input, ctx), and hands back a null-prototype record holding only strings and numbers (threat:
// a poisoned Object.prototype/then hijacking the result envelope).
const MAX_ERROR_TEXT = 64 * 1024;

function describeError(e) {
  if (typeof e === "object" && e !== null || typeof e === "function") {
    let name = "Error", message = "", stack;
    try { name = safeString(e.name); } catch {}
    try { message = safeString(e.message); } catch {}
    try { if (typeof e.stack === "string") stack = e.stack; } catch {}
    if (stack !== undefined) {
      stack = stack.split("\n").filter((l) => !l.includes("isobox:prelude") && !l.includes("isobox:entry")).join("\n").slice(0, MAX_ERROR_TEXT);
    }
    return record(stack === undefined ? { name: name.slice(0, 256), message: message.slice(0, MAX_ERROR_TEXT) } : { name: name.slice(0, 256), message: message.slice(0, MAX_ERROR_TEXT), stack });
  }
  let text;
  try { text = inspect(e, 1, []); } catch { text = "[unprintable]"; }
  return record({ name: "Error", message: ("Uncaught " + text).slice(0, MAX_ERROR_TEXT) });
}

function encodeValue(value, maxBytes) {
  let json;
  try { json = $JSON_stringify(value); } catch (e) {
    return record({ kind: "error", error: record({ name: "TypeError", message: "The value returned by the job cannot be sent back as JSON: " + safeString(e && e.message) }) });
  }
  if (json === undefined) return record({ kind: "ok" });
  if (json.length > maxBytes) return record({ kind: "too_big", size: json.length });
  return record({ kind: "ok", json });
}

function makeRunner(entryName, timers, uncaught) {
  let entryResolve;
  const entryDone = new $Promise((r) => { entryResolve = r; });
  defineGlobal(entryName, (ns) => { delete globalThis[entryName]; entryResolve(ns); });
  const race = (p) => $Promise.race([p, uncaught]);

  // The host starts `start` synchronously, then reads `poll()`; only if the job is still waiting
  // (timers, awaited work) does it pay for an asynchronous `wait()`.
  let settled;
  let settle;
  const done = new $Promise((r) => { settle = r; });
  function start(inputJson, jobId, envJson, maxValueBytes) {
    run(inputJson, jobId, envJson, maxValueBytes).then((envelope) => { settled = envelope; settle(envelope); });
  }
  async function run(inputJson, jobId, envJson, maxValueBytes) {
    try {
      const ns = await race(entryDone);
      const input = inputJson === undefined ? undefined : $JSON_parse(inputJson);
      const ctx = $Object_freeze({ jobId, env: $Object_freeze($JSON_parse(envJson)) });
      const main = typeof ns.main === "function" ? ns.main : typeof ns.default === "function" ? ns.default : null;
      let value;
      if (main) value = await race($Reflect_apply(main, undefined, [input, ctx]));
      else { value = ns.default; await race(timers.idle()); }
      return encodeValue(value, maxValueBytes);
    } catch (e) {
      return record({ kind: "error", error: describeError(e) });
    }
  }
  return { start, poll: () => settled, wait: () => done };
}
