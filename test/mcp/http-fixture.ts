// The fixture McpServer behind a real streamable-HTTP endpoint on 127.0.0.1 (ephemeral port), which
// refuses requests without the right `x-fixture-token` header. Stateless: one server per request.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { buildFixtureServer, type FixtureState } from "../fixtures/mcp-fixture-tools.ts";

export interface HttpFixture {
  url: string;
  token: string;
  state: FixtureState;
  /** Headers of every request that reached the endpoint. */
  seenHeaders: IncomingMessage["headers"][];
  close(): Promise<void>;
}

export async function startHttpFixture(opts: { json?: boolean } = {}): Promise<HttpFixture> {
  const token = randomBytes(16).toString("hex");
  const sockets = new Set<Socket>();
  const seenHeaders: IncomingMessage["headers"][] = [];
  const state: FixtureState = { calls: [], die: () => sockets.forEach((s) => s.destroy()) };
  const http: Server = createServer(async (req, res) => {
    seenHeaders.push(req.headers);
    if (req.headers["x-fixture-token"] !== token) {
      res.writeHead(401, { "content-type": "text/plain" }).end("bad token");
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    const server = buildFixtureServer(state);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: opts.json ?? false });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  http.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    token,
    state,
    seenHeaders,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        http.close(() => resolve());
      }),
  };
}
