// `sandbox.describe({ language })`: the guest's capabilities (bindings and MCP tools) as text for an
// LLM prompt ("code mode"): a `declare module "isobox:host"` for JavaScript/TypeScript, a stub of
// `from isobox import host` for Python. Types come from each capability's JSON Schema, best effort.
//
// Threat: names and descriptions come from MCP servers, i.e. from outside. The text must never let
// them out of the place they are put: every name is quoted or refused, `*/` cannot end a JSDoc comment,
// `"""`/backslashes cannot end a docstring, and U+2028/U+2029 (line breaks to JS) are escaped wherever
// a `//` comment or a string literal could be ended by them.
import { z } from "zod";
import { renderPython } from "./describe-python.ts";
import type { Node } from "./describe-schema.ts";
import { renderTypeScript } from "./describe-typescript.ts";

export type JsonSchema = Record<string, unknown>;

export interface CapabilityEntry {
  /** ["lookup"] for a binding, ["github", "search_issues"] for an MCP tool. */
  path: string[];
  description?: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
}

export type DescribeLanguage = "javascript" | "typescript" | "python";

/** A binding's zod input schema as JSON Schema; schemas zod cannot convert describe as `{}` (anything). */
export function bindingInputJsonSchema(schema: z.ZodType): JsonSchema {
  try {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
    return rest;
  } catch {
    return {};
  }
}

export function describeCapabilities(entries: CapabilityEntry[], language: DescribeLanguage): string {
  const root = buildTree(entries);
  return language === "python" ? renderPython(root) : renderTypeScript(root);
}

/** The capability tree: `host.github.search_issues` is node "github" with child "search_issues". */
function buildTree(entries: CapabilityEntry[]): Node {
  const root: Node = { children: new Map() };
  for (const e of entries) {
    if (e.path.length === 0) continue;
    let node = root;
    for (const seg of e.path) {
      let next = node.children.get(seg);
      if (next === undefined) node.children.set(seg, (next = { children: new Map() }));
      node = next;
    }
    node.entry ??= e; // first one wins; a duplicate path is a caller bug, not a second declaration
  }
  return root;
}
