// How tool names a server chose are exposed to guests. A server is not trusted to pick sane names:
// MCP only *recommends* [A-Za-z0-9_.-]{1,128}, so names like `__proto__`, `a.b`, `class` or 1 MB of
// text arrive in practice or from a hostile server.
//
// Policy (the guest side relies on it):
// - `name` is kept verbatim and is the only key `McpTools.call` accepts; lookups are by exact string in
//   a Map, never through an object's prototype chain.
// - `alias` is an identifier valid in JavaScript, TypeScript *and* Python, never a keyword of either,
//   never `__…` (Python dunders, `__proto__`), unique within its server. A name that already satisfies
//   all of that is its own alias and wins over sanitised ones; the others get `_`-sanitised, then `_2`,
//   `_3`… on collision, in listing order.
// - Names that are empty, longer than MAX_TOOL_NAME_CHARS, or duplicates of an earlier tool are not
//   exposed (see `SkippedMcpTool`).

export const MAX_TOOL_NAME_CHARS = 128;

const JS_WORDS = `break case catch class const continue debugger default delete do else enum export extends
false finally for function if import in instanceof new null return super switch this throw true try
typeof var void while with yield let static implements interface package private protected public await
arguments eval undefined NaN Infinity`;
const PY_WORDS = `False None True and as assert async await break class continue def del elif else except
finally for from global if import in is lambda nonlocal not or pass raise return try while with yield
match case type`;
// Also refused as aliases: names that shadow Object.prototype members a guest-side object might carry.
const OBJECT_WORDS = "constructor prototype toString valueOf hasOwnProperty isPrototypeOf propertyIsEnumerable toLocaleString then";

const RESERVED_ALIASES: ReadonlySet<string> = new Set(`${JS_WORDS} ${PY_WORDS} ${OBJECT_WORDS}`.split(/\s+/));

/** True when `name` can be written as `host.server.<name>` in JS, TS and Python without quoting. */
export function isSafeAlias(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !name.startsWith("__") && !RESERVED_ALIASES.has(name);
}

function sanitise(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_]/g, "_").replace(/^_+/, "");
  if (s === "") s = "tool";
  if (/^[0-9]/.test(s)) s = `_${s}`;
  if (RESERVED_ALIASES.has(s)) s = `${s}_`;
  return s;
}

/** Aliases for one server's tool names (already de-duplicated), in the same order. */
export function assignAliases(names: readonly string[]): string[] {
  const taken = new Set<string>();
  const out = new Array<string>(names.length);
  // Pass 1: names that are already safe keep themselves, so sanitising `a.b` can never steal `a_b`.
  names.forEach((n, i) => {
    if (isSafeAlias(n)) {
      out[i] = n;
      taken.add(n);
    }
  });
  names.forEach((n, i) => {
    if (out[i] !== undefined) return;
    const base = sanitise(n);
    let alias = base;
    for (let k = 2; taken.has(alias); k++) alias = `${base}_${k}`;
    out[i] = alias;
    taken.add(alias);
  });
  return out;
}

/** A name safe to put in an error message or a skip reason: bounded and without control characters. */
export function displayName(name: string): string {
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "?");
  return clean.length > 80 ? `${clean.slice(0, 77)}...` : clean;
}
