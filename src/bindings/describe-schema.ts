// JSON Schema reading shared by the TypeScript and Python renderers of describe.ts: `$ref`s within
// the schema (JSON pointers "#/..."), with a cycle guard and a depth bound, and the capability tree.
import type { CapabilityEntry, JsonSchema } from "./describe.ts";

/** `host.github.search_issues` is node "github" with child "search_issues". */
export interface Node {
  entry?: CapabilityEntry;
  children: Map<string, Node>;
}

/** Beyond this nesting, a type is `unknown`/`Any` (threat: a deep or self-referencing schema). */
const MAX_DEPTH = 8;
/** Enums and property lists longer than this are summarised (threat: a prompt flooded by one schema). */
export const MAX_MEMBERS = 100;

export interface SchemaCtx {
  root: JsonSchema;
  seen: Set<string>;
  depth: number;
  /** Schema nodes left to visit for this signature, shared by every branch. */
  budget: { left: number };
}

/**
 * Threat: a small schema whose `$ref`s fan out (100 properties each pointing at a definition with
 * 100 properties…) expanding exponentially within MAX_DEPTH. Past this many nodes, types are unknown.
 */
const NODE_BUDGET = 2000;

export function rootCtx(root: JsonSchema, depth = 0): SchemaCtx {
  return { root, seen: new Set(), depth, budget: { left: NODE_BUDGET } };
}

export function isObj(v: unknown): v is JsonSchema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function resolveRef(ref: string, ctx: SchemaCtx): unknown {
  if (!ref.startsWith("#")) return undefined; // remote refs are never fetched
  let cur: unknown = ctx.root;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    cur = isObj(cur) && Object.hasOwn(cur, key) ? cur[key] : undefined;
  }
  return cur;
}

/** Follows `$ref` and calls `f` on the target, or returns `fallback` for a cycle/missing ref/too deep. */
export function withSchema<T>(schema: unknown, ctx: SchemaCtx, fallback: T, f: (s: JsonSchema | boolean, c: SchemaCtx) => T): T {
  if (ctx.depth > MAX_DEPTH || --ctx.budget.left < 0) return fallback;
  if (isObj(schema) && typeof schema.$ref === "string") {
    if (ctx.seen.has(schema.$ref)) return fallback;
    const target = resolveRef(schema.$ref, ctx);
    if (target === undefined) return fallback;
    return withSchema(target, { ...ctx, seen: new Set([...ctx.seen, schema.$ref]), depth: ctx.depth + 1 }, fallback, f);
  }
  if (typeof schema === "boolean") return f(schema, ctx);
  return isObj(schema) ? f(schema, { ...ctx, depth: ctx.depth + 1 }) : fallback;
}

export function typesOf(s: JsonSchema): string[] {
  if (typeof s.type === "string") return [s.type];
  if (Array.isArray(s.type)) return s.type.filter((t): t is string => typeof t === "string");
  if (isObj(s.properties)) return ["object"];
  if (s.items !== undefined || s.prefixItems !== undefined) return ["array"];
  return [];
}

export function unionMembers(s: JsonSchema): unknown[] | undefined {
  const m = s.anyOf ?? s.oneOf;
  return Array.isArray(m) && m.length > 0 ? m : undefined;
}

export function requiredSet(s: JsonSchema): Set<string> {
  return new Set(Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === "string") : []);
}

export function properties(s: JsonSchema): Array<[string, unknown]> {
  return isObj(s.properties) ? Object.entries(s.properties) : [];
}

export function descriptionOf(schema: unknown): string | undefined {
  return isObj(schema) && typeof schema.description === "string" ? schema.description : undefined;
}

/** An object-typed input schema, i.e. one whose properties can be arguments. */
export function objectInput(schema: JsonSchema): JsonSchema | undefined {
  return withSchema(schema, rootCtx(schema, 0), undefined, (s) =>
    typeof s !== "boolean" && typesOf(s).includes("object") ? s : undefined,
  );
}

export function dedupe(types: string[]): string {
  const u = [...new Set(types)];
  if (u.includes("unknown")) return "unknown";
  return u.length === 0 ? "never" : u.join(" | ");
}
