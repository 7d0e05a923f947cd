// describe.ts for Python guests: a stub of `from isobox import host` (keyword arguments, docstrings).
import {
  type Node,
  type SchemaCtx,
  rootCtx,
  MAX_MEMBERS,
  descriptionOf,
  objectInput,
  properties,
  requiredSet,
  typesOf,
  unionMembers,
  withSchema,
} from "./describe-schema.ts";
import type { CapabilityEntry, JsonSchema } from "./describe.ts";

const PY_KEYWORDS = new Set(
  `False None True and as assert async await break class continue def del elif else except finally for from global if import in
  is lambda nonlocal not or pass raise return try while with yield`.split(/\s+/),
);

function isPyIdentifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !PY_KEYWORDS.has(s);
}

/** A Python string literal (double-quoted, every special character escaped). */
function pyString(s: string): string {
  return `"${pyEscape(s).replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`;
}

function pyEscape(s: string): string {
  return s
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"') // no `"""` can survive, so a docstring cannot be closed from inside
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function pyLiteral(v: unknown): string | undefined {
  if (typeof v === "string") return pyString(v);
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v === null) return "None";
  return undefined;
}

function pyType(schema: unknown, ctx: SchemaCtx): string {
  return withSchema(schema, ctx, "Any", (s, c) => {
    if (typeof s === "boolean") return s ? "Any" : "NoReturn";
    if ("const" in s) return s.const === null ? "None" : pyLiteral(s.const) ? `Literal[${pyLiteral(s.const)}]` : "Any";
    if (Array.isArray(s.enum)) {
      const lits = s.enum.slice(0, MAX_MEMBERS + 1).map(pyLiteral);
      if (lits.length <= MAX_MEMBERS && lits.length > 0 && lits.every((l) => l !== undefined))
        return `Literal[${[...new Set(lits)].join(", ")}]`;
    }
    const nullable = s.nullable === true ? ["None"] : [];
    const union = unionMembers(s);
    if (union) return pyUnion([...union.map((m) => pyType(m, c)), ...nullable]);
    const types = typesOf(s);
    if (types.length === 0) return "Any";
    return pyUnion([...types.map((t) => pyOfType(t, s, c)), ...nullable]);
  });
}

function pyUnion(types: string[]): string {
  const u = [...new Set(types)];
  return u.includes("Any") || u.length === 0 ? "Any" : u.join(" | ");
}

function pyOfType(type: string, s: JsonSchema, c: SchemaCtx): string {
  switch (type) {
    case "string":
      return "str";
    case "integer":
      return "int";
    case "number":
      return "float";
    case "boolean":
      return "bool";
    case "null":
      return "None";
    case "array":
      return s.items === undefined || Array.isArray(s.items) ? "list[Any]" : `list[${pyType(s.items, c)}]`;
    case "object":
      return "dict[str, Any]";
    default:
      return "Any";
  }
}

function pyDocstring(e: CapabilityEntry, params: Array<[string, unknown]>, unspellable: string[], indent: string): string {
  const parts: string[] = [];
  if (e.description?.trim()) parts.push(e.description.trim());
  const documented = params.filter(([, v]) => descriptionOf(v)?.trim());
  if (documented.length)
    parts.push(
      `Args:\n${documented
        .map(
          ([k, v]) =>
            `    ${k}: ${descriptionOf(v)!
              .trim()
              .replace(/\s*\n\s*/g, " ")}`,
        )
        .join("\n")}`,
    );
  if (unspellable.length) parts.push(`Also takes, via **kwargs: ${unspellable.map((k) => JSON.stringify(k)).join(", ")}`);
  if (parts.length === 0) return "";
  const lines = pyEscape(parts.join("\n\n").replace(/\r\n?/g, "\n")).split("\n");
  return `${indent}"""${lines.map((l, i) => (i === 0 ? l : `${indent}${l}`.trimEnd())).join("\n")}\n${indent}"""\n`;
}

/** `def name(*, a: int, b: str = ..., **kwargs: Any) -> R` for object inputs, `def name(value: T, /)` otherwise. */
function pyParameters(e: CapabilityEntry): { sig: string; props: Array<[string, unknown]>; unspellable: string[] } {
  const obj = objectInput(e.inputSchema);
  if (!obj) return { sig: `value: ${pyType(e.inputSchema, rootCtx(e.inputSchema, 0))}, /`, props: [], unspellable: [] };
  const ctx: SchemaCtx = rootCtx(e.inputSchema, 1);
  const all = properties(obj);
  const props = all.slice(0, MAX_MEMBERS);
  const req = requiredSet(obj);
  // Keyword-only parameters, required first; names Python cannot spell go through **kwargs.
  const spellable = props.filter(([k]) => isPyIdentifier(k));
  const unspellable = props.filter(([k]) => !isPyIdentifier(k)).map(([k]) => k);
  const named = [...spellable.filter(([k]) => req.has(k)), ...spellable.filter(([k]) => !req.has(k))].map(
    ([k, v]) => `${k}: ${pyType(v, ctx)}${req.has(k) ? "" : " = ..."}`,
  );
  let rest = "kwargs";
  while (props.some(([k]) => k === rest)) rest += "_";
  // An object without listed properties takes anything; one with properties is described by them
  // (unlisted extras are not invited into the prompt even when the schema would tolerate them).
  const open = unspellable.length > 0 || all.length > MAX_MEMBERS || (all.length === 0 && obj.additionalProperties !== false);
  const sig = [...(named.length ? ["*", ...named] : []), ...(open ? [`**${rest}: Any`] : [])].join(", ");
  return { sig, props, unspellable };
}

function pySignature(name: string, e: CapabilityEntry, indent: string): string {
  const { sig, props, unspellable } = pyParameters(e);
  const out = e.outputSchema ? pyType(e.outputSchema, rootCtx(e.outputSchema, 0)) : "Any";
  return `${indent}@staticmethod\n${indent}def ${name}(${sig}) -> ${out}:\n${pyDocstring(e, props, unspellable, `${indent}    `)}${indent}    ...`;
}

function pyClass(name: string, node: Node, indent: string, out: string[]): void {
  out.push(`${indent}class ${name}:`);
  const before = out.length;
  if (node.entry) out.push(pySignature("__call__", node.entry, `${indent}    `));
  for (const [child, sub] of node.children) {
    if (!isPyIdentifier(child) || child.startsWith("__")) {
      out.push(`${indent}    # not declared (not a Python identifier): ${pyString(child)}`);
    } else if (sub.children.size === 0 && sub.entry) out.push(pySignature(child, sub.entry, `${indent}    `));
    else pyClass(child, sub, `${indent}    `, out);
  }
  if (out.length === before) out.push(`${indent}    pass`);
}

export function renderPython(root: Node): string {
  const out = [
    "# Capabilities of `from isobox import host`: call host.name(**kwargs) (or host.server.tool(**kwargs));",
    "# the call returns the result, and raises an exception if the host refuses or the tool fails.",
    "from typing import Any, Literal, NoReturn",
    "",
  ];
  pyClass("host", root, "", out);
  return `${out.join("\n")}\n`;
}
