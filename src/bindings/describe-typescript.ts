// describe.ts for JavaScript/TypeScript guests: a `declare module "isobox:host"` text.
import {
  type Node,
  type SchemaCtx,
  rootCtx,
  MAX_MEMBERS,
  dedupe,
  descriptionOf,
  isObj,
  objectInput,
  properties,
  requiredSet,
  typesOf,
  unionMembers,
  withSchema,
} from "./describe-schema.ts";
import type { CapabilityEntry, JsonSchema } from "./describe.ts";

/** A string literal that no JS/TS lexer can end early (JSON escapes, plus the two JS line breaks). */
function tsString(s: string): string {
  return JSON.stringify(s)
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

const TS_RESERVED = new Set(
  `break case catch class const continue debugger default delete do else enum export extends false finally for function if import in
  instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package
  private protected public await`.split(/\s+/),
);

function isTsIdentifier(s: string): boolean {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s);
}

/** A member key in an object type: bare when it is an identifier, else a quoted string. */
function tsKey(name: string): string {
  return isTsIdentifier(name) ? name : tsString(name);
}

function tsLiteral(v: unknown): string | undefined {
  if (typeof v === "string") return tsString(v);
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "boolean" || v === null) return String(v);
  return undefined;
}

function tsDoc(text: string | undefined, indent: string): string {
  if (text === undefined || text.trim() === "") return "";
  // `*/` inside would end the comment early and let the rest be read as declarations.
  const lines = text
    .replace(/\*\//g, "*\\/")
    .replace(/\r\n?/g, "\n")
    .split(/[\n\u2028\u2029]/);
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`.trimEnd()).join("\n")}\n${indent} */\n`;
}

function tsType(schema: unknown, ctx: SchemaCtx): string {
  return withSchema(schema, ctx, "unknown", (s, c) => {
    if (typeof s === "boolean") return s ? "unknown" : "never";
    if ("const" in s) return tsLiteral(s.const) ?? "unknown";
    if (Array.isArray(s.enum)) {
      const lits = s.enum.slice(0, MAX_MEMBERS + 1).map(tsLiteral);
      if (lits.length <= MAX_MEMBERS && lits.every((l) => l !== undefined)) return dedupe(lits as string[]);
    }
    const union = unionMembers(s);
    const nullable = s.nullable === true ? ["null"] : [];
    if (union) return dedupe([...union.map((m) => tsType(m, c)), ...nullable]);
    if (Array.isArray(s.allOf) && s.allOf.length > 0) return s.allOf.map((m) => wrap(tsType(m, c))).join(" & ");
    const types = typesOf(s);
    if (types.length === 0) return "unknown";
    return dedupe([...types.map((t) => tsOfType(t, s, c)), ...nullable]);
  });
}

function wrap(t: string): string {
  return /[|&]/.test(t) ? `(${t})` : t;
}

function tsOfType(type: string, s: JsonSchema, c: SchemaCtx): string {
  switch (type) {
    case "string":
      return "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array": {
      if (Array.isArray(s.prefixItems))
        return `[${s.prefixItems
          .slice(0, MAX_MEMBERS)
          .map((m) => tsType(m, c))
          .join(", ")}, ...unknown[]]`;
      return s.items === undefined ? "unknown[]" : `${wrap(tsType(s.items, c))}[]`;
    }
    case "object":
      return tsObject(s, c, "");
    default:
      return "unknown";
  }
}

/** `{ a: string; b?: number }`; with `indent`, one documented member per line. */
function tsObject(s: JsonSchema, c: SchemaCtx, indent: string): string {
  const props = properties(s);
  // Members count against the signature's node budget too: a fan-out schema must not print millions of them.
  c.budget.left -= Math.min(props.length, MAX_MEMBERS);
  if (c.budget.left < 0) return "Record<string, unknown>";
  const req = requiredSet(s);
  const extra = s.additionalProperties;
  const members = props.slice(0, MAX_MEMBERS).map(([k, v]) => {
    const member = `${tsKey(k)}${req.has(k) ? "" : "?"}: ${tsType(v, c)};`;
    return indent === "" ? member : `${tsDoc(descriptionOf(v), indent)}${indent}${member}`;
  });
  if (props.length > MAX_MEMBERS || (extra !== false && extra !== undefined && props.length > 0))
    members.push(`${indent}[key: string]: unknown;`);
  if (props.length === 0) {
    if (extra === false) return "{}";
    return `Record<string, ${isObj(extra) ? tsType(extra, c) : "unknown"}>`;
  }
  if (indent === "") return `{ ${members.join(" ")} }`;
  return `{\n${members.join("\n")}\n${indent.slice(2)}}`;
}

function tsSignature(e: CapabilityEntry, indent: string): string {
  const ctx: SchemaCtx = rootCtx(e.inputSchema, 0);
  const obj = objectInput(e.inputSchema);
  const argType = obj ? tsObject(obj, { ...ctx, depth: 1 }, `${indent}  `) : tsType(e.inputSchema, ctx);
  const optional = obj !== undefined ? requiredSet(obj).size === 0 : argType === "unknown";
  const out = e.outputSchema ? tsType(e.outputSchema, rootCtx(e.outputSchema, 0)) : "unknown";
  return `(args${optional ? "?" : ""}: ${argType}): Promise<${out}>`;
}

function tsMembers(node: Node, indent: string): string {
  const out: string[] = [];
  if (node.entry) out.push(`${tsDoc(node.entry.description, indent)}${indent}${tsSignature(node.entry, indent)};`);
  for (const [name, child] of node.children) {
    if (child.children.size === 0 && child.entry) {
      out.push(`${tsDoc(child.entry.description, indent)}${indent}${tsKey(name)}${tsSignature(child.entry, indent)};`);
    } else out.push(`${indent}${tsKey(name)}: {\n${tsMembers(child, `${indent}  `)}\n${indent}};`);
  }
  return out.join("\n");
}

export function renderTypeScript(root: Node): string {
  const out: string[] = [`declare module "isobox:host" {`];
  let n = 0;
  for (const [name, node] of root.children) {
    // Top-level names become exports. Reserved words and non-identifiers cannot be declared directly,
    // so they are declared under a private name and exported under theirs (`export { x as "a.b" }`).
    const direct = isTsIdentifier(name) && !TS_RESERVED.has(name);
    const local = direct ? name : `__isobox_${n++}`;
    if (node.children.size === 0 && node.entry) {
      out.push(`${tsDoc(node.entry.description, "  ")}  ${direct ? "export " : ""}function ${local}${tsSignature(node.entry, "  ")};`);
    } else {
      out.push(`  ${direct ? "export " : ""}const ${local}: {\n${tsMembers(node, "    ")}\n  };`);
    }
    if (!direct) out.push(`  export { ${local} as ${isTsIdentifier(name) ? name : tsString(name)} };`);
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}
