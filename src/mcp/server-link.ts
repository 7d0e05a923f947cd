// Runs in: the embedding process. One MCP server's connection (a ServerLink): connecting it and
// listing its tools within the connect timeout, the reason a failed connect is reported with, and
// its one disposal path (closeLink), which also ends a stdio child that ignores the end of its stdin.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { ArgumentValidator } from "./arguments.ts";
import { McpConnectError, SecretRedactor, secretsOf } from "./errors.ts";
import { type ListedTool, listServerTools } from "./listing.ts";
import type { McpServer, SkippedMcpTool } from "./schemas.ts";
import { createTransport } from "./transport.ts";

/** One connected server. `tools` is keyed by the verbatim tool name in a Map: no prototype lookups. */
export interface ServerLink {
  name: string;
  client: Client;
  pid: () => number | null;
  redactor: SecretRedactor;
  tools: Map<string, ListedTool>;
  /** Set when the transport closed (child died, close() ran): later calls fail without trying. */
  closed: boolean;
  /** Set when the stdio transport dropped a message over maxMessageBytes. */
  oversize: boolean;
  /** Called on the server's tools/list_changed notification (set by McpTools). */
  onToolsChanged?: () => void;
}

const VERSION = "0.1.0";

export interface ConnectLimits {
  timeoutMs: number;
  maxMessageBytes: number;
  maxTools: number;
}

/** The stdio child, if it still runs: ended for good (one disposal path even when connect failed). */
function killChild(pid: number | null): void {
  if (pid === null) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* already gone */
  }
}

export async function closeLink(link: ServerLink): Promise<void> {
  link.closed = true;
  await link.client.close().catch(() => {});
  // Threat: a server that ignores stdin's end and SIGTERM would outlive the sandbox. The pid is read
  // after the close: one whose process already closed was forgotten (it may belong to another by now).
  killChild(link.pid());
}

export async function connectServer(
  name: string,
  config: McpServer,
  validator: ArgumentValidator,
  limits: ConnectLimits,
): Promise<{ link: ServerLink; skipped: SkippedMcpTool[] }> {
  const redactor = new SecretRedactor(secretsOf(config));
  const { transport, pid, forget } = createTransport(config, limits.maxMessageBytes);
  const client = new Client({ name: "isobox", version: VERSION }, { capabilities: {} });
  const link: ServerLink = { name, client, pid, redactor, tools: new Map(), closed: false, oversize: false };
  // For stdio the client closes when the child's process has closed (exited, pipes shut), whoever
  // started it: the pid is forgotten there.
  client.onclose = () => {
    link.closed = true;
    forget();
  };
  // The server's tools changed: McpTools lists them again (rate-limited there).
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => link.onToolsChanged?.());
  client.onerror = (e) => {
    // The stdio transport reports an over-cap message this way just before it closes.
    if (/ReadBuffer exceeded maximum size/.test(e.message)) link.oversize = true;
  };
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    await client.connect(transport, { signal, timeout: limits.timeoutMs });
    const listing = await listServerTools(name, client, validator, { maxTools: limits.maxTools, signal, timeoutMs: limits.timeoutMs });
    for (const t of listing.tools) link.tools.set(t.tool.name, t);
    return { link, skipped: listing.skipped };
  } catch (e) {
    await closeLink(link);
    // A connect that failed part-way may leave the transport detached from the client, and a child
    // that ignores stdin's end lives on (measured: a silent server outlived its timed-out connect).
    await transport.close().catch(() => {});
    killChild(pid());
    throw new McpConnectError(name, connectReason(e, signal, limits.timeoutMs, redactor), { cause: e });
  }
}

function connectReason(e: unknown, signal: AbortSignal, timeoutMs: number, redactor: SecretRedactor): string {
  if (signal.aborted) return `did not connect and list its tools within ${timeoutMs} ms`;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return "its command was not found";
  if (code === 401 || code === 403) return `refused the credentials (HTTP ${code})`;
  if (code === ErrorCode.ConnectionClosed) return "closed the connection before initialising (did the process exit?)";
  // Its text quotes the response body, which a hostile server fills as it likes: the status is enough.
  if (e instanceof StreamableHTTPError) return `answered HTTP ${e.code ?? "error"}`;
  if (e instanceof TypeError) return "is unreachable"; // fetch failed: the cause names the address
  const message = e instanceof Error ? e.message : String(e);
  return `could not connect: ${redactor.redact(message)}`;
}
