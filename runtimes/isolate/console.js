// console.* → host stdout/stderr, one call per formatted message. Formatting is a compact
// util.inspect look-alike: Node's util does not exist in an isolate, and bundling a port of it would
// cost every fresh isolate ~50 KB of parsing for a feature most jobs use with plain strings.
const MAX_DEPTH = 2;
const MAX_ITEMS = 100;

function inspect(value, depth, seen) {
  if (typeof value !== "object") return inspectScalar(value, depth);
  if (value === null) return "null";
  if (seen.includes(value)) return "[Circular]";
  try {
    if (value instanceof $Error) return safeString(value.stack || value);
    if (value instanceof Date) return isNaN(value) ? "Invalid Date" : value.toISOString();
    if (value instanceof RegExp) return safeString(value);
    if (depth > MAX_DEPTH) return $Array_isArray(value) ? "[Array]" : "[Object]";
    const next = seen.concat([value]);
    if ($Array_isArray(value))
      return inspectList(
        value.map((v) => inspect(v, depth + 1, next)),
        "[",
        "]",
      );
    if (value instanceof Map) {
      return inspectList(
        [...value].map(([k, v]) => inspect(k, depth + 1, next) + " => " + inspect(v, depth + 1, next)),
        "{",
        "}",
        "Map(" + value.size + ") ",
      );
    }
    if (value instanceof Set)
      return inspectList(
        [...value].map((v) => inspect(v, depth + 1, next)),
        "{",
        "}",
        "Set(" + value.size + ") ",
      );
    if (ArrayBuffer.isView(value))
      return inspectList(
        Array.from(value, (v) => $String(v)),
        "[",
        "]",
        value.constructor.name + "(" + value.length + ") ",
      );
    if (value instanceof Promise) return "Promise { <pending> }";
    const proto = $Object_getPrototypeOf(value);
    const ctorName =
      proto === null ? "[Object: null prototype] " : proto.constructor && proto.constructor !== Object ? proto.constructor.name + " " : "";
    const keys = $Object_keys(value);
    return inspectList(
      keys.map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : "'" + k + "'") + ": " + inspect(value[k], depth + 1, next)),
      "{",
      "}",
      ctorName,
    );
  } catch {
    return "[object]";
  }
}

/** A primitive or a function; a string is bare at depth 0 (a console.log argument), quoted inside a value. */
function inspectScalar(value, depth) {
  switch (typeof value) {
    case "string":
      return depth === 0 ? value : "'" + value.replace(/'/g, "\\'") + "'";
    case "number":
      return Object.is(value, -0) ? "-0" : $String(value);
    case "bigint":
      return $String(value) + "n";
    case "symbol":
      return safeString(value.toString());
    case "undefined":
      return "undefined";
    case "boolean":
      return $String(value);
    case "function":
      return "[Function: " + (value.name || "(anonymous)") + "]";
  }
}

/** Entries between brackets, at most MAX_ITEMS of them (util.inspect's maxArrayLength). */
function inspectList(entries, open, close, prefix) {
  const shown = entries.slice(0, MAX_ITEMS);
  if (entries.length > MAX_ITEMS) shown.push("... " + (entries.length - MAX_ITEMS) + " more items");
  return (prefix || "") + (shown.length ? open + " " + shown.join(", ") + " " + close : open + close);
}

function format(args) {
  let first = args[0];
  let rest = 1;
  let out = "";
  if (typeof first === "string" && first.includes("%") && args.length > 1) {
    out = first.replace(/%([sdifjoOc%])/g, (m, c) => {
      if (c === "%") return "%";
      if (rest >= args.length) return m;
      const a = args[rest++];
      switch (c) {
        case "s":
          return typeof a === "string" ? a : inspect(a, 1, []);
        case "d":
        case "i":
          return typeof a === "object" ? "NaN" : $String(c === "i" ? $Math_floor($Number(a)) : $Number(a));
        case "f":
          return $String($Number(a));
        case "j":
          try {
            return $JSON_stringify(a);
          } catch {
            return "[Circular]";
          }
        case "c":
          return "";
        default:
          return inspect(a, 1, []);
      }
    });
  } else {
    out = inspect(first, 0, []);
  }
  for (; rest < args.length; rest++) out += " " + inspect(args[rest], 0, []);
  return out;
}

function makeConsole(write) {
  const counts = new $Map();
  const timers = new $Map();
  let indent = "";
  const print =
    (fd) =>
    (...args) => {
      const text = args.length === 0 ? "" : format(args);
      write(fd, (indent ? indent + text.split("\n").join("\n" + indent) : text) + "\n");
    };
  const out = print(1);
  const err = print(2);
  return $Object_freeze({
    log: out,
    info: out,
    debug: out,
    trace: err,
    warn: err,
    error: err,
    dir: (v) => out(v),
    table: (v) => out(v),
    assert: (cond, ...args) => {
      if (!cond) err("Assertion failed" + (args.length ? ": " + format(args) : ""));
    },
    count: (label = "default") => {
      const n = (counts.get(label) || 0) + 1;
      counts.set(label, n);
      out(label + ": " + n);
    },
    countReset: (label = "default") => {
      counts.delete(label);
    },
    time: (label = "default") => {
      timers.set(label, $Date_now());
    },
    timeLog: (label = "default", ...args) => {
      const t = timers.get(label);
      if (t !== undefined) out(label + ": " + ($Date_now() - t) + "ms", ...args);
    },
    timeEnd: (label = "default") => {
      const t = timers.get(label);
      if (t !== undefined) {
        timers.delete(label);
        out(label + ": " + ($Date_now() - t) + "ms");
      }
    },
    group: (...args) => {
      if (args.length) out(...args);
      indent += "  ";
    },
    groupCollapsed: (...args) => {
      if (args.length) out(...args);
      indent += "  ";
    },
    groupEnd: () => {
      indent = indent.slice(2);
    },
  });
}
