// describeCapabilities: TypeScript declarations that tsc accepts, Python stubs that python parses,
// and no way for a hostile name or description to break out of where it is put.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { afterAll, describe, expect, it } from "vitest";
import { bindingInputJsonSchema, type CapabilityEntry, describeCapabilities } from "../../src/bindings/describe.ts";
import { McpTools } from "../../src/mcp/index.ts";

const tsc = fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs tsc --strict on the declarations plus a usage file; returns its diagnostics ("" when clean). */
function typecheck(declarations: string, usage: string): string {
  const dir = mkdtempSync(join(tmpdir(), "isobox-describe-"));
  dirs.push(dir);
  writeFileSync(join(dir, "host.d.ts"), declarations);
  writeFileSync(join(dir, "use.ts"), usage);
  const r = spawnSync(
    process.execPath,
    [tsc, "--noEmit", "--strict", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext", "host.d.ts", "use.ts"],
    { cwd: dir, encoding: "utf8" },
  );
  return `${r.stdout}${r.stderr}`.trim();
}

const PY_INSPECT = `
import ast, json, sys
tree = ast.parse(sys.stdin.read())
out = {"top": [type(n).__name__ for n in tree.body], "docs": {}, "params": {}}
def walk(node, prefix):
    for n in node.body:
        if isinstance(n, ast.ClassDef):
            walk(n, prefix + n.name + ".")
        elif isinstance(n, ast.FunctionDef):
            q = prefix + n.name
            out["docs"][q] = ast.get_docstring(n, clean=False)
            a = n.args
            out["params"][q] = {"kwonly": [x.arg for x in a.kwonlyargs], "posonly": [x.arg for x in a.posonlyargs], "kwargs": a.kwarg.arg if a.kwarg else None}
for n in tree.body:
    if isinstance(n, ast.ClassDef):
        walk(n, n.name + ".")
print(json.dumps(out))
`;
const hasPython = spawnSync("python3", ["--version"]).status === 0;

function inspectPython(stub: string): {
  top: string[];
  docs: Record<string, string | null>;
  params: Record<string, { kwonly: string[]; posonly: string[]; kwargs: string | null }>;
} {
  return JSON.parse(execFileSync("python3", ["-c", PY_INSPECT], { input: stub, encoding: "utf8" })) as ReturnType<typeof inspectPython>;
}

const HOSTILE = '*/ declare const pwned: 1; /* """ import os; os.system("x") """ \u2028 declare const pwned2: 1; \\';

const entries: CapabilityEntry[] = [
  {
    path: ["lookup"],
    description: "Looks up a user by id.",
    inputSchema: bindingInputJsonSchema(z.object({ id: z.number().int().describe("the user id"), verbose: z.boolean().optional() })),
    outputSchema: {
      type: "object",
      properties: { name: { type: "string" }, tags: { type: "array", items: { type: "string" } } },
      required: ["name"],
    },
  },
  { path: ["shout"], inputSchema: bindingInputJsonSchema(z.string()) },
  { path: ["delete"], description: "A binding named like a keyword.", inputSchema: { type: "object" } },
  {
    path: ["github", "search_issues"],
    description: `Search issues. ${HOSTILE}`,
    inputSchema: {
      type: "object",
      properties: {
        query: { type: "string", description: `GitHub search syntax ${HOSTILE}` },
        state: { enum: ["open", "closed"] },
        limit: { type: ["integer", "null"] },
        "per-page": { type: "number" },
        from: { type: "string" },
        node: { $ref: "#/$defs/node" },
        tags: { type: "array", items: { anyOf: [{ type: "string" }, { type: "number" }] } },
        legacy: { type: "string", nullable: true },
        both: {
          allOf: [
            { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
            { type: "object", properties: { b: { type: "number" } } },
          ],
        },
      },
      required: ["query"],
      $defs: { node: { type: "object", properties: { child: { $ref: "#/$defs/node" }, label: { const: "leaf" } } } },
    },
    outputSchema: { type: "object", properties: { total: { type: "integer" } }, required: ["total"], additionalProperties: false },
  },
  { path: ["github", "a.b"], inputSchema: { type: "object", properties: {}, additionalProperties: false } },
  {
    path: ["github", `x"\n*/ declare const pwned3: 1; /*`],
    description: HOSTILE,
    inputSchema: { type: "object", properties: { [`k"\n*/`]: { type: "string" } } },
  },
];

describe("describeCapabilities for TypeScript/JavaScript", () => {
  const text = describeCapabilities(entries, "typescript");

  it("declares the isobox:host module with a function per binding and an object per MCP server", () => {
    expect(text.startsWith('declare module "isobox:host" {\n')).toBe(true);
    expect(text).toContain("  export function lookup(args: {\n");
    expect(text).toContain("    id: number;\n    verbose?: boolean;\n  }): Promise<{ name: string; tags?: string[]; }>;");
    expect(text).toContain("  export function shout(args: string): Promise<unknown>;");
    expect(text).toContain("  export { __isobox_0 as delete };");
    expect(text).toContain("  export const github: {\n");
    expect(text).toContain('      state?: "open" | "closed";');
    expect(text).toContain("      limit?: number | null;");
    expect(text).toContain('      "per-page"?: number;');
    expect(text).toContain('      node?: { child?: unknown; label?: "leaf"; };');
    expect(text).toContain("      tags?: (string | number)[];");
    expect(text).toContain("      legacy?: string | null;");
    expect(text).toContain("      both?: { a: string; } & { b?: number; };");
    expect(text).toContain("    }): Promise<{ total: number; }>;");
    expect(text).toContain('    "a.b"(args?: {}): Promise<unknown>;');
    expect(text).toContain("   * Looks up a user by id.");
  });

  it("keeps a description containing */ inside its JSDoc (comment breakout attack)", () => {
    expect(text).toContain("Search issues. *\\/ declare const pwned: 1;");
    // Every line naming "pwned" is a JSDoc line, or the payload sits inside a quoted member key.
    for (const line of text.split("\n").filter((l) => l.includes("pwned"))) {
      expect(/^\s*\* /.test(line) || /^\s*"(?:[^"\\]|\\.)*pwned(?:[^"\\]|\\.)*"\??[:(]/.test(line), line).toBe(true);
    }
  });

  it("produces declarations tsc --strict accepts, whose types refuse wrong calls", () => {
    const usage = `import * as host from "isobox:host";
export async function main(): Promise<void> {
  const u = await host.lookup({ id: 1 });
  const n: string = u.name;
  await host.shout("hi");
  await host.delete();
  const r = await host.github.search_issues({ query: "is:open", state: "closed", limit: null, "per-page": 3, tags: ["a", 1] });
  const total: number = r.total;
  await host.github["a.b"]();
  // @ts-expect-error id must be a number
  await host.lookup({ id: "1" });
  // @ts-expect-error query is required
  await host.github.search_issues({});
  // @ts-expect-error state is an enum
  await host.github.search_issues({ query: "q", state: "sideways" });
  void n; void total;
}
// @ts-expect-error nothing named pwned may be declared by a description
import { pwned } from "isobox:host";
// @ts-expect-error nor by a tool name
import { pwned3 } from "isobox:host";
void pwned; void pwned3;
`;
    expect(typecheck(text, usage)).toBe("");
  });

  it("is the same text for javascript", () => {
    expect(describeCapabilities(entries, "javascript")).toBe(text);
  });
});

describe.skipIf(!hasPython)("describeCapabilities for Python", () => {
  const stub = describeCapabilities(entries, "python");

  it("writes keyword-only parameters from the schema's properties, required first", () => {
    expect(stub).toContain("class host:\n");
    expect(stub).toContain("    def lookup(*, id: int, verbose: bool = ...) -> dict[str, Any]:");
    expect(stub).toContain("    def shout(value: str, /) -> Any:");
    expect(stub).toContain("    def delete(**kwargs: Any) -> Any:");
    expect(stub).toContain("    class github:\n");
    expect(stub).toContain('def search_issues(*, query: str, state: Literal["open", "closed"] = ..., limit: int | None = ...,');
    expect(stub).toContain(", **kwargs: Any) -> dict[str, Any]:");
    expect(stub).toContain('# not declared (not a Python identifier): "a.b"');
  });

  it("parses as Python whose only top-level statements are the import and class host (no injected code)", () => {
    const info = inspectPython(stub);
    expect(info.top).toEqual(["ImportFrom", "ClassDef"]);
    expect(Object.keys(info.docs).sort()).toEqual(["host.delete", "host.github.search_issues", "host.lookup", "host.shout"]);
    expect(info.params["host.github.search_issues"]).toEqual({
      kwonly: ["query", "state", "limit", "node", "tags", "legacy", "both"],
      posonly: [],
      kwargs: "kwargs",
    });
    expect(info.params["host.shout"]!.posonly).toEqual(["value"]);
  });

  it('keeps a description containing """ and backslashes inside its docstring, byte for byte (docstring breakout attack)', () => {
    const doc = inspectPython(stub).docs["host.github.search_issues"]!;
    expect(doc.startsWith(`Search issues. ${HOSTILE}`)).toBe(true);
    expect(doc).toContain(`query: GitHub search syntax ${HOSTILE}`);
    expect(doc).toContain('Also takes, via **kwargs: "per-page", "from"');
  });
});

describe("describeCapabilities against schema bombs", () => {
  it("stays small and fast for $refs that fan out exponentially (100 props x 8 levels)", () => {
    const $defs: Record<string, unknown> = {};
    for (let level = 0; level < 8; level++) {
      const props: Record<string, unknown> = {};
      for (let i = 0; i < 100; i++) props[`p${i}`] = { $ref: `#/$defs/d${level + 1}` };
      $defs[`d${level}`] = { type: "object", properties: props };
    }
    $defs.d8 = { type: "string" };
    const bomb: CapabilityEntry = {
      path: ["srv", "bomb"],
      inputSchema: { type: "object", properties: { root: { $ref: "#/$defs/d0" } }, $defs },
    };
    const t0 = performance.now();
    for (const lang of ["typescript", "python"] as const) expect(describeCapabilities([bomb], lang).length).toBeLessThan(200_000);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it("ends a self-referencing schema with unknown instead of recursing", () => {
    const text = describeCapabilities(
      [{ path: ["f"], inputSchema: { $ref: "#", type: "object", properties: { self: { $ref: "#" } } } }],
      "typescript",
    );
    expect(text).toContain("export function f(args?: unknown): Promise<unknown>;");
  });
});

describe("bindingInputJsonSchema", () => {
  it("converts a zod schema to JSON Schema without the $schema noise", () => {
    expect(bindingInputJsonSchema(z.object({ q: z.string(), n: z.number().optional() }))).toEqual({
      type: "object",
      properties: { q: { type: "string" }, n: { type: "number" } },
      required: ["q"],
    });
  });

  it("falls back to {} (anything) for what it cannot convert", () => {
    expect(bindingInputJsonSchema(z.bigint())).toEqual({});
    expect(bindingInputJsonSchema({ not: "a zod schema" } as unknown as z.ZodType)).toEqual({});
    expect(describeCapabilities([{ path: ["f"], inputSchema: bindingInputJsonSchema(z.bigint()) }], "typescript")).toContain(
      "export function f(args?: unknown): Promise<unknown>;",
    );
  });
});

describe("describe of a real MCP server's tools", () => {
  it("type-checks the declarations of every fixture tool, including odd names", async () => {
    const fixture = fileURLToPath(new URL("../fixtures/mcp-stdio-server.ts", import.meta.url));
    const mcp = await McpTools.connect({
      fx: { command: process.execPath, args: [fixture] },
      odd: { command: process.execPath, args: [fixture, "odd"] },
    });
    try {
      const tools = mcp
        .tools()
        .map((t) => ({ path: [t.server, t.alias], description: t.description, inputSchema: t.inputSchema, outputSchema: t.outputSchema }));
      const text = describeCapabilities(tools as CapabilityEntry[], "typescript");
      expect(text).toContain("    echo(args: {\n");
      expect(text).toContain("    proto__(args?: Record<string, unknown>): Promise<unknown>;");
      const usage = `import * as host from "isobox:host";
export async function main(): Promise<void> {
  const e = await host.fx.echo({ text: "a", times: 2 });
  const t: string = e.text;
  await host.odd.constructor_();
  void t;
}
`;
      expect(typecheck(text, usage)).toBe("");
      if (hasPython)
        expect(inspectPython(describeCapabilities(tools as CapabilityEntry[], "python")).top).toEqual(["ImportFrom", "ClassDef"]);
    } finally {
      await mcp.close();
    }
  });
});
