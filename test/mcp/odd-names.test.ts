// Hostile tool listings from a real SDK Server over stdio: prototype names, punctuation, unicode,
// keywords, duplicates, absurd names/descriptions/schemas, endless pagination.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { McpTools, isSafeAlias } from "../../src/mcp/index.ts";
import { assignAliases } from "../../src/mcp/names.ts";

const fixture = fileURLToPath(new URL("../fixtures/mcp-stdio-server.ts", import.meta.url));

describe("odd tool names from a hostile server", () => {
  let mcp: McpTools;
  beforeAll(async () => {
    mcp = await McpTools.connect({ odd: { command: process.execPath, args: [fixture, "odd"] } });
  });
  afterAll(() => mcp.close());

  it("keeps prototype-named tools verbatim and callable by exact name (__proto__, constructor)", async () => {
    const names = mcp.tools().map((t) => t.name);
    expect(names).toContain("__proto__");
    expect(names).toContain("constructor");
    expect(await mcp.call("odd", "__proto__", { x: 1 })).toEqual({ called: "__proto__", args: { x: 1 } });
    expect(await mcp.call("odd", "constructor", {})).toEqual({ called: "constructor", args: {} });
  });

  it("gives every tool a unique alias that is an identifier in JS and Python and never a keyword or dunder", () => {
    const byName = new Map(mcp.tools().map((t) => [t.name, t.alias]));
    expect(byName.get("__proto__")).toBe("proto__"); // (a `__proto__:` literal key would set a prototype, not a key)
    expect(Object.fromEntries(byName)).toMatchObject({
      constructor: "constructor_",
      "a.b": "a_b_2",
      a_b: "a_b", // an already-safe name keeps itself; sanitised ones never steal it
      "a-b": "a_b_3",
      "a b": "a_b_4",
      ünïcødé: "n_c_d_",
      class: "class_",
      then: "then_", // threat: a `then` member makes the guest's namespace object a thenable
      "9lives": "_9lives",
    });
    const aliases = [...byName.values()];
    expect(new Set(aliases).size).toBe(aliases.length);
    for (const a of aliases) expect(isSafeAlias(a)).toBe(true);
  });

  it("handles a __proto__ argument key as data: no host prototype pollution, the call completes", async () => {
    const args = JSON.parse('{"__proto__": {"polluted": true}, "k": 1}') as unknown;
    const out = (await mcp.call("odd", "a.b", args)) as { args: Record<string, unknown> };
    // The SDK server's zod parsing drops the own `__proto__` key on its side; nothing reaches a prototype.
    expect(out.args.k).toBe(1);
    expect(Object.getPrototypeOf(out.args)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses empty and over-long names, later duplicates, huge and uncompilable schemas — and says why", () => {
    const names = mcp.tools().map((t) => t.name);
    expect(names.filter((n) => n === "dup")).toHaveLength(1);
    expect(mcp.tools().find((t) => t.name === "dup")!.description).toBe("first");
    expect(names).not.toContain("");
    expect(names.some((n) => n.length > 128)).toBe(false);
    expect(names).not.toContain("huge_schema");
    expect(names).not.toContain("bad_schema");
    const reasons = Object.fromEntries(mcp.skipped().map((s) => [s.name, s.reason]));
    expect(reasons.dup).toMatch(/duplicate/);
    expect(reasons[""]).toMatch(/1 to 128 characters/);
    expect(reasons[`${"x".repeat(77)}...`]).toMatch(/1 to 128 characters/);
    expect(reasons.huge_schema).toMatch(/schemas larger than/);
    expect(reasons.bad_schema).toMatch(/does not compile/);
  });

  it("follows pagination to the second page and validates draft-07 schemas there", async () => {
    expect(mcp.tools().map((t) => t.name)).toContain("strict_args");
    expect(await mcp.call("odd", "strict_args", { n: 3 })).toEqual({ called: "strict_args", args: { n: 3 } });
    await expect(mcp.call("odd", "strict_args", { n: 3, extra: 1 })).rejects.toThrow(
      'invalid arguments for odd.strict_args: arguments must NOT have additional properties ("extra")',
    );
    await expect(mcp.call("odd", "strict_args", { n: 1.5 })).rejects.toThrow("arguments/n must be integer");
  });

  it("cuts an absurdly long description to a prompt-sized one", () => {
    const wordy = mcp.tools().find((t) => t.name === "wordy")!;
    expect(wordy.description!.length).toBe(4000);
    expect(wordy.description!.endsWith("...")).toBe(true);
  });

  it("returns tool objects the caller cannot use to alter the tool set", async () => {
    const [first] = mcp.tools();
    first!.inputSchema.properties = { injected: { type: "string" } };
    expect(mcp.tools()[0]!.inputSchema.properties).toBeUndefined();
  });
});

describe("listing bounds", () => {
  it("stops a listing whose pages never end (same cursor forever) and reports it", async () => {
    const mcp = await McpTools.connect({ loop: { command: process.execPath, args: [fixture, "loop"] } });
    try {
      expect(mcp.tools().map((t) => t.name)).toEqual(["t0", "t1"]);
      expect(mcp.skipped()).toEqual([{ server: "loop", name: "(the rest)", reason: "the tool listing repeated a page cursor" }]);
    } finally {
      await mcp.close();
    }
  });

  it("keeps at most maxToolsPerServer tools and reports the rest", async () => {
    const mcp = await McpTools.connect({ odd: { command: process.execPath, args: [fixture, "odd"] } }, { maxToolsPerServer: 3 });
    try {
      expect(mcp.tools().map((t) => t.name)).toEqual(["__proto__", "constructor", "a.b"]);
      expect(mcp.skipped()).toContainEqual({ server: "odd", name: "(the rest)", reason: "more than 3 tools listed" });
    } finally {
      await mcp.close();
    }
  });
});

describe("assignAliases", () => {
  it("is deterministic and collision-free for names that sanitise alike", () => {
    expect(assignAliases(["a.b", "a-b", "a_b", "a_b_2"])).toEqual(["a_b_3", "a_b_4", "a_b", "a_b_2"]);
    expect(assignAliases(["", "_", "___"])).toEqual(["tool", "_", "tool_2"]);
    expect(assignAliases(["import", "def", "None", "await"])).toEqual(["import_", "def_", "None_", "await_"]);
  });
});

describe("McpServersSchema", () => {
  it("refuses server names that are not identifiers or would reach prototype machinery", async () => {
    for (const name of ["__proto__", "constructor", "prototype", "a.b", "has space", "9x", "with$"]) {
      const servers = JSON.parse(`{${JSON.stringify(name)}: {"command": "true"}}`) as Record<string, { command: string }>;
      await expect(McpTools.connect(servers), name).rejects.toThrow(/mcp\.servers/);
    }
  });

  it("refuses non-http URLs and header values with CR/LF before connecting anything", async () => {
    await expect(McpTools.connect({ s: { url: "file:///etc/passwd" } })).rejects.toThrow(/http: or https:/);
    await expect(McpTools.connect({ s: { url: "http://127.0.0.1:1/", headers: { "x-k": "a\r\nInjected: 1" } } })).rejects.toThrow(/CR, LF/);
  });
});
