// structuredClone in plain JavaScript, inside the isolate: a host round trip would copy the whole
// value into host memory, outside the guest's memory cap (threat: a guest cloning a huge graph to
// grow the worker's heap).
function structuredClone(value, options) {
  const seen = new $Map();
  const fail = (what) => {
    throw new DOMException(what + " could not be cloned.", "DataCloneError");
  };
  const clone = (v) => {
    if (typeof v === "function") fail("function " + (v.name || "anonymous"));
    if (typeof v === "symbol") fail(safeString(v.toString()));
    if (typeof v !== "object" || v === null) return v;
    if (seen.has(v)) return seen.get(v);
    let out;
    if ($Array_isArray(v)) {
      out = new Array(v.length);
      seen.set(v, out);
      for (let i = 0; i < v.length; i++) if (i in v) out[i] = clone(v[i]);
      return out;
    }
    if (v instanceof Date) out = new Date(v.getTime());
    else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
    else if (v instanceof ArrayBuffer) out = v.slice(0);
    else if (ArrayBuffer.isView(v)) {
      const buf = clone(v.buffer);
      out = v instanceof DataView ? new DataView(buf, v.byteOffset, v.byteLength) : new v.constructor(buf, v.byteOffset, v.length);
    } else if (v instanceof Map) {
      out = new Map();
      seen.set(v, out);
      for (const [k, x] of v) out.set(clone(k), clone(x));
      return out;
    } else if (v instanceof Set) {
      out = new Set();
      seen.set(v, out);
      for (const x of v) out.add(clone(x));
      return out;
    } else if (v instanceof $Error) {
      const Ctor = { EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError }[v.name] || $Error;
      out = new Ctor(v.message);
      seen.set(v, out);
      if (v.stack !== undefined) out.stack = $String(v.stack);
      if ("cause" in v) out.cause = clone(v.cause);
      return out;
    } else if (v instanceof Boolean || v instanceof Number || v instanceof String) out = Object(v.valueOf());
    else if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet) fail("#<" + v.constructor.name + ">");
    else {
      out = {};
      seen.set(v, out);
      for (const k of $Object_keys(v)) out[k] = clone(v[k]);
      return out;
    }
    seen.set(v, out);
    return out;
  };
  if (arguments.length === 0) throw new $TypeError("structuredClone requires a value");
  return clone(value);
}
