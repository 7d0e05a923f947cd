// One MCP server configuration → one SDK client transport. Kept thin and apart from the tool logic
// (STYLE.md: transports separate from the protocol).
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Readable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { cappedFetch } from "./http-fetch.ts";
import type { McpServer } from "./schemas.ts";

export interface ServerTransport {
  transport: Transport;
  /** The stdio child's pid while it may still run (for close, tests and diagnostics); null for HTTP. */
  pid(): number | null;
  /** The child's process closed (the transport's onclose): its pid is no longer ours to signal. */
  forget(): void;
}

export function createTransport(config: McpServer, maxMessageBytes: number): ServerTransport {
  if ("url" in config) {
    const transport = new StreamableHTTPClientTransport(new URL(config.url), {
      // Credentials live here, on the host side of the transport, and nowhere a guest can read.
      requestInit: { headers: { ...config.headers } },
      fetch: cappedFetch(maxMessageBytes),
      // The SDK's default already refuses cross-origin redirects (threat: a redirect carrying the
      // credential headers to another host); said explicitly so an SDK default change cannot loosen it.
      redirectPolicy: "same-origin",
    });
    return { transport, pid: () => null, forget: () => {} };
  }
  const transport = new StdioClientTransport({
    command: config.command,
    ...(config.args ? { args: config.args } : {}),
    // The SDK passes only HOME, LOGNAME, PATH, SHELL, TERM, USER of the embedder's environment plus
    // `env`: the child does not inherit the embedder's secrets.
    ...(config.env ? { env: config.env } : {}),
    ...(config.cwd ? { cwd: config.cwd } : {}),
    // The child's stderr is drained, not inherited: a chatty or hostile server must not write into
    // the embedder's terminal/logs, and an unread pipe would stall it.
    stderr: "pipe",
    // Threat: one giant line from the child growing the host's read buffer without bound. Over the
    // cap the SDK drops the buffer and closes the transport (the child is killed).
    maxBufferSize: maxMessageBytes,
  });
  (transport.stderr as Readable | null)?.resume();
  // The SDK forgets the child's pid once it closes the transport (and ends the child with SIGTERM,
  // which a child that inherited an ignored SIGTERM survives): keep it, so close can make sure.
  let spawned: number | null = null;
  const start = transport.start.bind(transport);
  transport.start = async () => {
    try {
      await start();
    } finally {
      spawned = transport.pid ?? spawned;
    }
  };
  // Once the child's process has closed, its pid may be reused by an unrelated process: forgotten
  // then, so nothing later signals it (threat: SIGKILL reaching someone else's process).
  return {
    transport,
    pid: () => transport.pid ?? spawned,
    forget: () => {
      spawned = null;
    },
  };
}
