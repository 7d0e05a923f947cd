import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// McpTools against a real SDK McpServer spawned over stdio (test/fixtures/mcp-stdio-server.ts).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { McpCallError, McpConnectError, McpTools } from "../../src/mcp/index.ts";
import { rejection } from "./rejection.ts";

const fixture = fileURLToPath(new URL("../fixtures/mcp-stdio-server.ts", import.meta.url));
const stdio = (env?: Record<string, string>) => ({ command: process.execPath, args: [fixture], ...(env ? { env } : {}) });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Live child processes of this test process (zombies excluded). */
function childPids(): number[] {
  const out = execFileSync("ps", ["-o", "pid=,stat=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, stat, comm]) => pid && !stat?.startsWith("Z") && comm !== "ps")
    .map(([pid]) => Number(pid));
}

describe("McpTools over stdio", () => {
  let mcp: McpTools;
  beforeAll(async () => {
    process.env.ISOBOX_TEST_EMBEDDER_SECRET = "must-not-reach-the-child";
    mcp = await McpTools.connect({ fx: stdio({ FIXTURE_TOKEN: "tok-4f9a1c77e2" }) }, { callTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await mcp.close();
  });

  it("lists the server's tools with descriptions and JSON Schemas", () => {
    const tools = mcp.tools();
    expect(tools.map((t) => t.name)).toEqual([
      "echo",
      "json_text",
      "plain_text",
      "image_only",
      "fail",
      "never",
      "die",
      "big",
      "env_keys",
      "calls",
    ]);
    const echo = tools.find((t) => t.name === "echo")!;
    expect(echo).toMatchObject({ server: "fx", alias: "echo", description: "Echoes text, repeated `times` times." });
    expect(echo.inputSchema).toMatchObject({ type: "object", properties: { text: { type: "string" } }, required: ["text"] });
    expect(echo.outputSchema).toMatchObject({ type: "object", properties: { times: { type: "number" } } });
  });

  it("returns structuredContent when the tool gives it", async () => {
    expect(await mcp.call("fx", "echo", { text: "ab", times: 2 })).toEqual({ text: "abab", times: 2 });
  });

  it("parses the first text block as JSON when there is no structuredContent", async () => {
    expect(await mcp.call("fx", "json_text", {})).toEqual({ issues: [{ id: 1, title: "crash" }], total: 1 });
  });

  it("returns plain text as a string, and undefined arguments as {}", async () => {
    expect(await mcp.call("fx", "plain_text", undefined)).toBe("hello from the tool");
  });

  it("returns the raw content array when there is no text block", async () => {
    expect(await mcp.call("fx", "image_only", {})).toEqual([{ type: "image", data: "iVBORw0KGgo=", mimeType: "image/png" }]);
  });

  it("turns isError into an McpCallError carrying only the tool's text", async () => {
    const e = await rejection(mcp.call("fx", "fail", {}));
    expect(e.code).toBe("tool_error");
    expect(e.message).toBe("repository not found");
    expect(e.stack).toBe("McpCallError: repository not found");
  });

  it("redacts the server's configured secrets from an error text the server echoes", async () => {
    const e = await rejection(mcp.call("fx", "fail", { why: "auth failed for token tok-4f9a1c77e2" }));
    expect(e.message).toBe("auth failed for token [redacted]");
  });

  it("refuses invalid arguments before the server sees the call, with a message naming the field", async () => {
    const before = (await mcp.call("fx", "calls", {})) as { calls: string[] };
    const wrongType = await rejection(mcp.call("fx", "echo", { text: 42 }));
    expect(wrongType.code).toBe("invalid_arguments");
    expect(wrongType.message).toBe("invalid arguments for fx.echo: arguments/text must be string");
    const missing = await rejection(mcp.call("fx", "echo", {}));
    expect(missing.message).toBe("invalid arguments for fx.echo: arguments must have required property 'text'");
    const badEnum = await rejection(mcp.call("fx", "echo", { text: "a", mode: "sideways" }));
    expect(badEnum.message).toContain('arguments/mode must be equal to one of the allowed values: ["upper","lower"]');
    const notObject = await rejection(mcp.call("fx", "echo", ["text"]));
    expect(notObject.code).toBe("invalid_arguments");
    const cyclic: Record<string, unknown> = { text: "a" };
    cyclic.self = cyclic;
    expect((await rejection(mcp.call("fx", "echo", cyclic))).message).toBe(
      "invalid arguments for fx.echo: arguments must be JSON (no cycles, BigInt or functions)",
    );
    expect((await rejection(mcp.call("fx", "echo", { text: "a", n: 1n }))).code).toBe("invalid_arguments");
    // Checked after the JSON round-trip: a toJSON cannot swap in what was not validated.
    const sneaky = { text: "ok", toJSON: () => ({ text: 42 }) };
    expect((await rejection(mcp.call("fx", "echo", sneaky))).message).toBe("invalid arguments for fx.echo: arguments/text must be string");
    const after = (await mcp.call("fx", "calls", {})) as { calls: string[] };
    expect(after.calls).toEqual(before.calls);
  });

  it("names an unknown server or tool without reaching any server", async () => {
    expect((await rejection(mcp.call("nope", "echo", {}))).message).toBe('no MCP server named "nope"');
    expect((await rejection(mcp.call("fx", "toString", {}))).message).toBe('MCP server "fx" has no tool named "toString"');
    expect((await rejection(mcp.call("fx", "__proto__", {}))).code).toBe("unknown_tool");
  });

  it("gives the child only the SDK's safe environment plus its configured env (no embedder secrets)", async () => {
    const { keys } = (await mcp.call("fx", "env_keys", {})) as { keys: string[] };
    expect(keys).toContain("FIXTURE_TOKEN");
    expect(keys).not.toContain("ISOBOX_TEST_EMBEDDER_SECRET");
  });

  it("times out a tool that never answers, and the server stays usable", async () => {
    const t0 = Date.now();
    const e = await rejection(mcp.call("fx", "never", {}, { timeoutMs: 300 }));
    expect(e.code).toBe("timeout");
    expect(e.message).toBe("fx.never did not answer within 300 ms");
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(await mcp.call("fx", "plain_text", {})).toBe("hello from the tool");
  });

  it("stops waiting when the caller's signal aborts", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const e = await rejection(mcp.call("fx", "never", {}, { signal: ac.signal }));
    expect(e.code).toBe("aborted");
  });
});

describe("McpTools over stdio, a server whose tools change", () => {
  const until = async (ok: () => boolean, ms = 5_000) => {
    for (const t0 = Date.now(); !ok();) {
      if (Date.now() - t0 > ms) throw new Error("timed out waiting");
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  it("lists again on tools/list_changed: a new tool becomes callable, a removed one is refused", async () => {
    const mcp = await McpTools.connect({ fx: { command: process.execPath, args: [fixture, "dynamic"] } });
    try {
      expect(mcp.tools().some((t) => t.name === "grown_1")).toBe(false);
      const v0 = mcp.version;
      expect(await mcp.call("fx", "grow", {})).toEqual({ added: "grown_1" });
      await until(() => mcp.version > v0);
      expect(mcp.tools().find((t) => t.name === "grown_1")).toMatchObject({ alias: "grown_1", description: "Grown tool 1." });
      expect(await mcp.call("fx", "grown_1", {})).toEqual({ grown: 1 });
      const v1 = mcp.version;
      await mcp.call("fx", "shrink", {});
      await until(() => mcp.version > v1);
      expect((await rejection(mcp.call("fx", "grown_1", {}))).code).toBe("unknown_tool");
    } finally {
      await mcp.close();
    }
  });

  it("a burst of 2,000 list_changed notifications costs at most two listings a second (attack: notification spam)", async () => {
    const mcp = await McpTools.connect({ fx: { command: process.execPath, args: [fixture, "dynamic"] } });
    try {
      const v0 = mcp.version;
      await mcp.call("fx", "spam", { times: 2000 });
      await new Promise((r) => setTimeout(r, 1_500));
      expect(mcp.version - v0).toBeGreaterThanOrEqual(1);
      expect(mcp.version - v0).toBeLessThanOrEqual(3);
      expect(await mcp.call("fx", "plain_text", {})).toBe("hello from the tool");
    } finally {
      await mcp.close();
    }
  });
});

describe("McpTools over stdio, hostile outcomes", () => {
  it("fails a call at once when the server process dies mid-call; the next call starts it again", async () => {
    const mcp = await McpTools.connect({ fx: stdio() });
    try {
      const first = mcp.pid("fx");
      const t0 = Date.now();
      const e = await rejection(mcp.call("fx", "die", {}, { timeoutMs: 10_000 }));
      expect(e.code).toBe("disconnected");
      expect(e.message).toBe('MCP server "fx" closed the connection during the call to fx.die');
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(await mcp.call("fx", "plain_text", {})).toBe("hello from the tool");
      const second = mcp.pid("fx");
      expect(second).not.toBeNull();
      expect(second).not.toBe(first);
      expect(alive(first!)).toBe(false);
    } finally {
      await mcp.close();
    }
  });

  it("close() during a reconnect leaves no server process behind", async () => {
    const before = childPids();
    const mcp = await McpTools.connect({ fx: stdio() });
    await rejection(mcp.call("fx", "die", {}, { timeoutMs: 10_000 }));
    const call = mcp.call("fx", "plain_text", {}).then(
      () => "answered",
      (e: unknown) => (e as Error).message,
    );
    await new Promise((r) => setTimeout(r, 20)); // the new child is being spawned
    await mcp.close();
    expect(await call).toMatch(/not connected/);
    expect(childPids().filter((p) => !before.includes(p))).toEqual([]);
  });

  it("a server that cannot come back is not respawned on every call: one attempt per backoff period", async () => {
    const flag = join(mkdtempSync(join(tmpdir(), "isobox-mcp-")), "started");
    const mcp = await McpTools.connect({ fx: stdio({ FIXTURE_ONCE: flag }) });
    try {
      await rejection(mcp.call("fx", "die", {}, { timeoutMs: 10_000 }));
      const failed = await rejection(mcp.call("fx", "plain_text", {}));
      expect(failed.code).toBe("disconnected");
      expect(failed.message).toMatch(/^MCP server "fx": .*next attempt in 1 s\)$/);
      const spawnsBefore = childPids().length;
      // Attack: a guest hammering a dead server to make the host fork a process per call.
      const hammered = await Promise.all(Array.from({ length: 20 }, () => rejection(mcp.call("fx", "plain_text", {}))));
      expect(hammered.every((h) => /next reconnect attempt in 1 s/.test(h.message))).toBe(true);
      expect(childPids().length).toBe(spawnsBefore);
      const pid = mcp.pid("fx");
      if (pid !== null) expect(alive(pid)).toBe(false);
      // Past the backoff, one more attempt; it fails too, and the wait doubles.
      await new Promise((r) => setTimeout(r, 1_100));
      expect((await rejection(mcp.call("fx", "plain_text", {}))).message).toMatch(/next attempt in 2 s\)$/);
    } finally {
      await mcp.close();
    }
  });

  it("refuses a result larger than maxMessageBytes instead of buffering it (tool steered to answer 3 MB)", async () => {
    const mcp = await McpTools.connect({ fx: stdio() }, { maxMessageBytes: 1024 * 1024 });
    try {
      expect(((await mcp.call("fx", "big", { bytes: 1000 })) as string).length).toBe(1000);
      const e = await rejection(mcp.call("fx", "big", { bytes: 3 * 1024 * 1024 }));
      expect(e.code).toBe("too_large");
    } finally {
      await mcp.close();
    }
  });

  it("close() leaves no child process behind, even with a call pending", async () => {
    const mcp = await McpTools.connect({ a: stdio(), b: stdio() });
    const pids = [mcp.pid("a"), mcp.pid("b")];
    expect(pids.every((p) => typeof p === "number" && alive(p))).toBe(true);
    const pending = mcp.call("a", "never", {}, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    await mcp.close();
    await mcp.close(); // idempotent
    expect(await pending).toBeInstanceOf(McpCallError);
    for (const pid of pids) expect(alive(pid!)).toBe(false);
    expect(childPids().filter((p) => pids.includes(p))).toEqual([]);
    expect((await rejection(mcp.call("b", "plain_text", {}))).code).toBe("disconnected");
  });

  it("names the server when its command cannot be spawned, and kills the servers that did connect", async () => {
    const before = childPids();
    const e = await McpTools.connect({ good: stdio(), broken: { command: "/nonexistent/isobox-mcp-server" } }).catch((err: unknown) => err);
    expect(childPids().filter((p) => !before.includes(p))).toEqual([]);
    expect(e).toBeInstanceOf(McpConnectError);
    expect((e as McpConnectError).server).toBe("broken");
    expect((e as Error).message).toBe('MCP server "broken": its command was not found');
  });

  it("names the server when it does not answer initialize in time, and its process does not outlive the failed connect", async () => {
    const marker = `isobox-mute-${process.pid}-${Date.now()}`;
    const silent = { command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)", marker] };
    const t0 = Date.now();
    const e = await McpTools.connect({ mute: silent }, { timeoutMs: 500 }).catch((err: unknown) => err);
    expect((e as Error).message).toBe('MCP server "mute": did not connect and list its tools within 500 ms');
    expect(Date.now() - t0).toBeLessThan(8_000);
    await new Promise((r) => setTimeout(r, 300));
    const alive = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          return readFileSync(`/proc/${d}/cmdline`, "utf8").includes(marker);
        } catch {
          return false;
        }
      });
    expect(alive).toEqual([]);
  });

  it("names the server when its process exits before initialize", async () => {
    const e = await McpTools.connect({ quitter: { command: process.execPath, args: ["-e", "process.exit(1)"] } }).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(McpConnectError);
    expect((e as Error).message).toBe('MCP server "quitter": closed the connection before initialising (did the process exit?)');
  });
});
