// MCP tools as guests see them: `host.<server>.<tool>(args)` in JS and Python, against real SDK
// servers over stdio and over streamable HTTP on loopback. Credentials stay in this process.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createSandbox, type Sandbox } from "../src/index.ts";
import { startHttpFixture, type HttpFixture } from "./mcp/http-fixture.ts";

const stdioServer = fileURLToPath(new URL("./fixtures/mcp-stdio-server.ts", import.meta.url));
let http: HttpFixture;
let sandbox: Sandbox;

beforeAll(async () => {
  http = await startHttpFixture();
  sandbox = await createSandbox({
    concurrency: 2,
    warm: { javascript: 1, python: 1 },
    bindings: {
      lookup: {
        description: "Looks a key up",
        input: z.object({ key: z.string() }),
        handler: (a) => ({ key: (a as { key: string }).key }),
      },
    },
    mcp: {
      servers: {
        local: { command: process.execPath, args: [stdioServer] },
        remote: { url: http.url, headers: { "x-fixture-token": http.token } },
        odd: { command: process.execPath, args: [stdioServer, "odd"] },
      },
      callTimeoutMs: 2000,
    },
  });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
  await http?.close();
});

describe("MCP tools in JavaScript guests", () => {
  it("calls tools over stdio and streamable HTTP, results unwrapped", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `import * as host from "isobox:host";
        export default async () => ({
          structured: await host.local.echo({ text: "hi", times: 2 }),
          jsonText: await host.remote.json_text({}),
          plain: await host.remote.plain_text(),
        })`,
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual({
      structured: { text: "hihi", times: 2 },
      jsonText: { issues: [{ id: 1, title: "crash" }], total: 1 },
      plain: "hello from the tool",
    });
  });

  it("validates arguments against the tool's JSON Schema before the server is called", async () => {
    const before = http.state.calls.length;
    const r = await sandbox.run({
      language: "javascript",
      code: `import * as host from "isobox:host";
        export default async () => { try { await host.remote.echo({ text: 5 }); } catch (e) { return [e.name, e.message]; } }`,
    });
    expect((r.value as string[])[0]).toBe("ValidationError");
    expect(http.state.calls.length).toBe(before);
  });

  it("an isError result is an exception in the guest, carrying no URL or token", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `import * as host from "isobox:host"; export default () => host.remote.fail({ why: "because" })`,
    });
    expect(r.status).toBe("error");
    expect(JSON.stringify(r)).not.toContain(http.token);
    expect(JSON.stringify(r)).not.toContain(http.url);
  });

  it("a tool that never answers ends with a TimeoutError in the guest", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `import * as host from "isobox:host"; export default async () => { try { await host.local.never({}); } catch (e) { return e.name; } }`,
    });
    expect(r.value).toBe("TimeoutError");
  });

  it("the guest never sees a server's URL, command or token anywhere in its world", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `import * as host from "isobox:host"; export default () => JSON.stringify([Object.keys(host), Object.getOwnPropertyNames(host.remote), String(host.remote.echo)])`,
    });
    expect(r.status).toBe("ok");
    const seen = r.value as string;
    expect(seen).not.toContain(http.token);
    expect(seen).not.toContain("127.0.0.1");
    expect(seen).not.toContain("mcp-stdio-server");
  });

  it("tool names like __proto__, constructor, then and a.b are reachable only by their safe aliases and poison nothing", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `import * as host from "isobox:host";
        export default async () => ({ names: Object.keys(host.odd).sort(), protoIsNull: Object.getPrototypeOf(host.odd) === null, thenable: typeof host.odd.then, polluted: ({}).polluted ?? null })`,
    });
    expect(r.status).toBe("ok");
    const v = r.value as { names: string[]; protoIsNull: boolean; thenable: string; polluted: null };
    expect(v.names).toContain("proto__");
    expect(v.names).not.toContain("__proto__");
    expect(v.names).not.toContain("a.b");
    expect(v.thenable).toBe("undefined");
    expect(v.protoIsNull).toBe(true);
    expect(v.polluted).toBeNull();
  });
});

describe("MCP tools in Python guests", () => {
  it("host.server.tool(**args) returns the unwrapped result synchronously", async () => {
    const r = await sandbox.run({
      language: "python",
      code: "from isobox import host\n[host.local.echo(text='py', mode='upper'), host.remote.plain_text()]",
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual([{ text: "PY", times: 1 }, "hello from the tool"]);
  });

  it("an isError result raises BindingError; bad arguments raise ValidationError", async () => {
    const r = await sandbox.run({
      language: "python",
      code: `from isobox import host, BindingError, ValidationError
out = []
try:
    host.remote.fail(why="x")
except BindingError:
    out.append("BindingError")
try:
    host.remote.echo(text=1)
except ValidationError:
    out.append("ValidationError")
out`,
    });
    expect(r.value).toEqual(["BindingError", "ValidationError"]);
  });
});

describe("describe() for code mode", () => {
  it("TypeScript declarations name every binding and tool with its description", () => {
    const ts = sandbox.describe({ language: "typescript" });
    expect(ts).toContain('declare module "isobox:host"');
    expect(ts).toMatch(/lookup/);
    expect(ts).toMatch(/Looks a key up/);
    expect(ts).toMatch(/echo/);
    expect(ts).toMatch(/Echoes text/);
    expect(ts).not.toContain(http.token);
  });

  it("a Python stub for `from isobox import host`", () => {
    const py = sandbox.describe({ language: "python" });
    expect(py).toMatch(/class host/);
    expect(py).toMatch(/def lookup\(/);
    expect(py).toMatch(/echo/);
  });

  it("refuses an unknown language", () => {
    expect(() => sandbox.describe({ language: "ruby" as never })).toThrow(TypeError);
  });
});

describe("MCP configuration at the door", () => {
  it("a server named like a prototype key, or a server that cannot start, fails createSandbox clearly", async () => {
    await expect(createSandbox({ mcp: { servers: JSON.parse('{"__proto__": {"command": "x"}}') } })).rejects.toThrow(/reserved/);
    await expect(createSandbox({ concurrency: 1, mcp: { servers: { broken: { command: "/nonexistent/mcp-server" } } } })).rejects.toThrow(
      /broken/,
    );
  });
});

describe("a server whose tools change while the sandbox runs", () => {
  it("the next job gets the new tool, in both languages, and describe() lists it", async () => {
    const dyn = await createSandbox({
      concurrency: 1,
      warm: { javascript: 1, python: 1 },
      mcp: { servers: { dyn: { command: process.execPath, args: [stdioServer, "dynamic"] } } },
    });
    try {
      const grow = await dyn.run({
        language: "javascript",
        code: `import * as host from "isobox:host"; export default () => host.dyn.grow({})`,
      });
      expect(grow.value).toEqual({ added: "grown_1" });
      for (let i = 0; i < 100 && !dyn.describe({ language: "typescript" }).includes("grown_1"); i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(dyn.describe({ language: "python" })).toContain("Grown tool 1.");
      const js = await dyn.run({
        language: "javascript",
        code: `import * as host from "isobox:host"; export default () => host.dyn.grown_1({})`,
      });
      const py = await dyn.run({ language: "python", code: "from isobox import host\nhost.dyn.grown_1()" });
      expect([js.value, py.value]).toEqual([{ grown: 1 }, { grown: 1 }]);
    } finally {
      await dyn.close();
    }
  });
});
