// McpTools against a real SDK McpServer behind streamable HTTP on 127.0.0.1, which checks a token header.
import { createServer } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { McpConnectError, McpTools } from "../../src/mcp/index.ts";
import { type HttpFixture, startHttpFixture } from "./http-fixture.ts";
import { rejection } from "./rejection.ts";

for (const json of [false, true]) {
  describe(`McpTools over streamable HTTP (${json ? "JSON" : "SSE"} responses)`, () => {
    let fx: HttpFixture;
    let mcp: McpTools;
    beforeAll(async () => {
      fx = await startHttpFixture({ json });
      mcp = await McpTools.connect({ web: { url: fx.url, headers: { "x-fixture-token": fx.token } } }, { callTimeoutMs: 5_000 });
    });
    afterAll(async () => {
      await mcp?.close();
      await fx?.close();
    });

    it("sends the credential header on every request and lists the tools", () => {
      expect(fx.seenHeaders.length).toBeGreaterThan(0);
      expect(fx.seenHeaders.every((h) => h["x-fixture-token"] === fx.token)).toBe(true);
      expect(mcp.tools().map((t) => t.name)).toContain("echo");
      expect(mcp.pid("web")).toBeNull();
    });

    it("unwraps structuredContent, JSON text and plain text", async () => {
      expect(await mcp.call("web", "echo", { text: "hi", times: 3 })).toEqual({ text: "hihihi", times: 3 });
      expect(await mcp.call("web", "json_text", {})).toEqual({ issues: [{ id: 1, title: "crash" }], total: 1 });
      expect(await mcp.call("web", "plain_text", {})).toBe("hello from the tool");
    });

    it("turns isError into an exception with the tool's text, the token redacted", async () => {
      const e = await rejection(mcp.call("web", "fail", { why: `token ${fx.token} rejected at ${fx.url}` }));
      expect(e.code).toBe("tool_error");
      expect(e.message).toBe("token [redacted] rejected at [redacted]");
    });

    it("refuses invalid arguments without any request reaching the server", async () => {
      const before = fx.seenHeaders.length;
      const e = await rejection(mcp.call("web", "echo", { text: "x", times: 99 }));
      expect(e.message).toBe("invalid arguments for web.echo: arguments/times must be <= 5");
      expect(fx.seenHeaders.length).toBe(before);
    });

    it("times out a tool that never answers", async () => {
      const e = await rejection(mcp.call("web", "never", {}, { timeoutMs: 300 }));
      expect(e.code).toBe("timeout");
    });

    it("refuses a result over maxMessageBytes without buffering it all", async () => {
      const small = await McpTools.connect(
        { web: { url: fx.url, headers: { "x-fixture-token": fx.token } } },
        { maxMessageBytes: 64 * 1024 },
      );
      try {
        expect(((await small.call("web", "big", { bytes: 1000 })) as string).length).toBe(1000);
        const t0 = Date.now();
        const e = await rejection(small.call("web", "big", { bytes: 2 * 1024 * 1024 }, { timeoutMs: 10_000 }));
        expect(e.code).toBe("too_large");
        expect(Date.now() - t0).toBeLessThan(5_000); // failed at once, not at the timeout
        expect(((await small.call("web", "big", { bytes: 10 })) as string).length).toBe(10); // still usable
      } finally {
        await small.close();
      }
    });

    it("fails a call at once when the server drops the connection mid-call", async () => {
      const t0 = Date.now();
      const e = await rejection(mcp.call("web", "die", {}, { timeoutMs: 10_000 }));
      expect(e.code).toBe("disconnected");
      expect(e.message).not.toContain("127.0.0.1");
      expect(Date.now() - t0).toBeLessThan(5_000);
    });
  });
}

describe("McpTools over streamable HTTP, connection failures", () => {
  it("names the server when the token is wrong, without the token or the URL in the message", async () => {
    const fx = await startHttpFixture();
    try {
      const e = await McpTools.connect({ gh: { url: fx.url, headers: { "x-fixture-token": "wrong-token-123" } } }).catch(
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(McpConnectError);
      expect((e as McpConnectError).server).toBe("gh");
      const message = (e as Error).message;
      expect(message).toBe('MCP server "gh": refused the credentials (HTTP 401)');
      expect(message).not.toContain("wrong-token-123");
      expect(message).not.toContain(fx.url);
      expect(message).not.toContain("127.0.0.1");
    } finally {
      await fx.close();
    }
  });

  it("names the server when nothing listens at its URL, credentials in the URL redacted", async () => {
    const fx = await startHttpFixture();
    const url = new URL(fx.url);
    await fx.close(); // the port is now closed
    url.username = "user";
    url.password = "hunter2secret";
    url.searchParams.set("api_key", "sk-live-abcdef");
    const e = await McpTools.connect({ down: { url: url.href } }, { timeoutMs: 3_000 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(McpConnectError);
    const message = (e as Error).message;
    expect(message).toBe('MCP server "down": is unreachable');
    for (const secret of ["hunter2secret", "sk-live-abcdef", url.host]) expect(message).not.toContain(secret);
  });

  it("does not carry the credential header across a redirect to another origin (token exfiltration via 307)", async () => {
    const target = await startHttpFixture(); // another port: another origin
    const redirector = createServer((_req, res) => res.writeHead(307, { location: target.url }).end());
    await new Promise<void>((r) => redirector.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(redirector.address() as { port: number }).port}/mcp`;
    try {
      const e = await McpTools.connect({ r: { url, headers: { "x-fixture-token": "secret-token-xyz" } } }, { timeoutMs: 3_000 }).catch(
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(McpConnectError);
      expect(target.seenHeaders.filter((h) => h["x-fixture-token"] === "secret-token-xyz")).toEqual([]);
    } finally {
      redirector.close();
      await target.close();
    }
  });

  it("does not buffer a giant error page (HTTP 500 with 8 MB of body) and names the server", async () => {
    const chunk = "e".repeat(64 * 1024);
    const flood = createServer((_req, res) => {
      res.writeHead(500, { "content-type": "text/plain" });
      for (let i = 0; i < 128; i++) res.write(chunk);
      res.end();
    });
    await new Promise<void>((r) => flood.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(flood.address() as { port: number }).port}/mcp`;
      const e = await McpTools.connect({ flood: { url } }, { maxMessageBytes: 64 * 1024, timeoutMs: 5_000 }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(McpConnectError);
      expect((e as Error).message).toBe('MCP server "flood": answered HTTP 500');
    } finally {
      flood.close();
    }
  });

  it("later calls fail as disconnected once the HTTP server is gone", async () => {
    const fx = await startHttpFixture({ json: true });
    const mcp = await McpTools.connect({ web: { url: fx.url, headers: { "x-fixture-token": fx.token } } });
    try {
      await fx.close();
      const e = await rejection(mcp.call("web", "plain_text", {}, { timeoutMs: 3_000 }));
      expect(e.code).toBe("disconnected");
      expect(e.message).toBe('MCP server "web" is unreachable');
    } finally {
      await mcp.close();
    }
  });
});
