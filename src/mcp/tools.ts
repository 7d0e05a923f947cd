// McpTools: the embedding process's connections to the configured MCP servers, and the one door
// through which a guest's `host.<server>.<tool>(args)` reaches them. It owns every SDK client (and so
// every stdio child process); `close()` is their single disposal path.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { describeIssue } from "../contract/issues.ts";
import { ArgumentValidator } from "./arguments.ts";
import { McpCallError, McpConnectError, SecretRedactor, secretsOf } from "./errors.ts";
import { BROKEN_STREAM_CODE, MessageTooLargeError, TOO_LARGE_CODE } from "./http-fetch.ts";
import { type ListedTool, listServerTools } from "./listing.ts";
import { displayName } from "./names.ts";
import { unwrapToolResult } from "./result.ts";
import { McpConnectOptionsSchema, McpServersSchema, type McpConnectOptions, type McpServer, type McpServers, type McpTool, type SkippedMcpTool } from "./schemas.ts";
import { createTransport } from "./transport.ts";

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_TOOLS_PER_SERVER = 1000;

export interface McpCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** One connected server. `tools` is keyed by the verbatim tool name in a Map: no prototype lookups. */
interface ServerLink {
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

/** Reconnect backoff after a failed attempt: doubles from the first to the last (threat: a crashing
 * server respawned in a tight loop by a guest calling it over and over). */
export const RECONNECT_FIRST_DELAY_MS = 1_000;
export const RECONNECT_MAX_DELAY_MS = 30_000;

/** Least time between two re-listings of one server's tools after tools/list_changed (threat: a
 * server spamming the notification to keep the host listing and compiling schemas). */
export const RELIST_MIN_INTERVAL_MS = 1_000;

/** One server's re-listing: at most one under way, and one more queued behind it at most. */
interface Relisting {
  running: boolean;
  again: boolean;
  last: number;
  timer?: NodeJS.Timeout;
}

/** How a dropped server comes back: its configuration, and when the next attempt may run. */
interface Revival {
  config: McpServer;
  delayMs: number;
  notBefore: number;
  pending?: Promise<ServerLink>;
}

interface ConnectLimits {
  timeoutMs: number;
  maxMessageBytes: number;
  maxTools: number;
}

export class McpTools {
  readonly #links: Map<string, ServerLink>;
  #skipped: SkippedMcpTool[];
  #version = 0;
  readonly #relistings = new Map<string, Relisting>();
  readonly #callTimeoutMs: number;
  readonly #maxMessageBytes: number;
  readonly #revivals = new Map<string, Revival>();
  readonly #limits: ConnectLimits;
  #closing: Promise<void> | undefined;

  private constructor(links: Map<string, ServerLink>, skipped: SkippedMcpTool[], callTimeoutMs: number, limits: ConnectLimits, configs: Record<string, McpServer>) {
    this.#links = links;
    this.#skipped = skipped;
    this.#callTimeoutMs = callTimeoutMs;
    this.#maxMessageBytes = limits.maxMessageBytes;
    this.#limits = limits;
    for (const [name, config] of Object.entries(configs)) this.#revivals.set(name, { config, delayMs: 0, notBefore: 0 });
    for (const link of links.values()) link.onToolsChanged = () => this.#toolsChanged(link.name);
  }

  /** Goes up whenever a server's tool listing was replaced (a reconnect, or tools/list_changed). */
  get version(): number {
    return this.#version;
  }

  /** tools/list_changed: list again now, or once the interval since the last listing has passed. */
  #toolsChanged(name: string): void {
    if (this.#closing) return;
    let r = this.#relistings.get(name);
    if (!r) this.#relistings.set(name, (r = { running: false, again: false, last: -Infinity }));
    if (r.running || r.timer) {
      r.again = true; // coalesced: one more listing after the current one, however many arrive
      return;
    }
    const waitMs = r.last + RELIST_MIN_INTERVAL_MS - performance.now();
    if (waitMs > 0) {
      r.timer = setTimeout(() => { r.timer = undefined; void this.#relist(name, r); }, waitMs);
      r.timer.unref();
      return;
    }
    void this.#relist(name, r);
  }

  async #relist(name: string, r: Relisting): Promise<void> {
    const link = this.#links.get(name);
    if (!link || link.closed || this.#closing) return;
    r.running = true;
    r.again = false;
    r.last = performance.now();
    try {
      // A fresh validator per listing: compiled schemas of tools that are gone are dropped with it.
      const listing = await listServerTools(name, link.client, new ArgumentValidator(), { maxTools: this.#limits.maxTools, signal: AbortSignal.timeout(this.#limits.timeoutMs), timeoutMs: this.#limits.timeoutMs });
      if (this.#links.get(name) === link && !link.closed && !this.#closing) {
        link.tools = new Map(listing.tools.map((t) => [t.tool.name, t]));
        this.#skipped = [...this.#skipped.filter((s) => s.server !== name), ...listing.skipped];
        this.#version++;
      }
    } catch {
      // The server could not list: the tools it listed last stay until it can.
    } finally {
      r.running = false;
    }
    if (r.again) this.#toolsChanged(name);
  }

  /** Connects every server in parallel; if any fails, those already connected are closed and the first failure is thrown. */
  static async connect(servers: McpServers, opts: McpConnectOptions = {}): Promise<McpTools> {
    const parsedServers = McpServersSchema.safeParse(servers);
    if (!parsedServers.success) throw new TypeError(`mcp.servers: ${describeIssue(parsedServers.error)}`);
    const parsedOpts = McpConnectOptionsSchema.safeParse(opts);
    if (!parsedOpts.success) throw new TypeError(`mcp options: ${describeIssue(parsedOpts.error)}`);
    const o = parsedOpts.data;
    const limits = {
      timeoutMs: o.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      maxMessageBytes: o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      maxTools: o.maxToolsPerServer ?? DEFAULT_MAX_TOOLS_PER_SERVER,
    };
    const validator = new ArgumentValidator();
    const entries = Object.entries(parsedServers.data);
    const settled = await Promise.allSettled(entries.map(([name, config]) => connectServer(name, config, validator, limits)));
    const links = new Map<string, ServerLink>();
    const skipped: SkippedMcpTool[] = [];
    let failure: unknown;
    for (const s of settled) {
      if (s.status === "fulfilled") {
        links.set(s.value.link.name, s.value.link);
        skipped.push(...s.value.skipped);
      } else failure ??= s.reason;
    }
    const tools = new McpTools(links, skipped, o.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, limits, parsedServers.data);
    if (failure !== undefined) {
      await tools.close();
      throw failure;
    }
    return tools;
  }

  /** Every exposed tool, servers in configuration order, tools in listing order. */
  tools(): McpTool[] {
    return [...this.#links.values()].flatMap((l) => [...l.tools.values()].map((t) => structuredClone(t.tool)));
  }

  /** Tools a server listed that are not exposed, with the reason (odd names, huge schemas, duplicates…). */
  skipped(): SkippedMcpTool[] {
    return this.#skipped.map((s) => ({ ...s }));
  }

  /** The stdio child's pid of `server`, while it runs (diagnostics and tests). */
  pid(server: string): number | null {
    return this.#links.get(server)?.pid() ?? null;
  }

  /**
   * Calls `server`'s tool `tool` (its verbatim name) with `args` (undefined = `{}`). Rejects with an
   * McpCallError whose message is fit for the guest; arguments are validated before the server is asked.
   */
  async call(server: string, tool: string, args: unknown, opts: McpCallOptions = {}): Promise<unknown> {
    let link = typeof server === "string" ? this.#links.get(server) : undefined;
    if (link === undefined) throw new McpCallError("unknown_tool", `no MCP server named "${displayName(String(server))}"`);
    if (this.#closing) throw new McpCallError("disconnected", `MCP server "${link.name}" is not connected`);
    // A server that dropped (its process died, its connection closed) is connected again on the
    // next call, once per backoff period; the call then uses the server's new tool listing.
    if (link.closed) link = await this.#revive(link);
    const entry = typeof tool === "string" ? link.tools.get(tool) : undefined;
    const label = `${link.name}.${displayName(String(tool))}`;
    if (entry === undefined) throw new McpCallError("unknown_tool", `MCP server "${link.name}" has no tool named "${displayName(String(tool))}"`);
    const wire = wireArguments(entry, label, args, this.#maxMessageBytes);
    const timeoutMs = opts.timeoutMs ?? this.#callTimeoutMs;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError("timeoutMs must be a positive integer");
    let result: CallToolResult;
    try {
      const request = { name: tool, arguments: wire };
      result = (await link.client.callTool(request, undefined, { timeout: timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) })) as CallToolResult;
    } catch (e) {
      throw callFailure(link, label, e, timeoutMs, opts.signal);
    }
    return unwrapToolResult(result, label, link.redactor);
  }

  /** A new connection for a dropped server: one attempt at a time, none during its backoff. */
  #revive(dead: ServerLink): Promise<ServerLink> {
    const revival = this.#revivals.get(dead.name)!;
    const waitMs = revival.notBefore - performance.now();
    if (!revival.pending && waitMs > 0) {
      return Promise.reject(new McpCallError("disconnected", `MCP server "${dead.name}" is not connected (next reconnect attempt in ${Math.ceil(waitMs / 1000)} s)`));
    }
    revival.pending ??= (async () => {
      await closeLink(dead); // its child, if it lingers, is ended before a new one starts
      try {
        const { link, skipped } = await connectServer(dead.name, revival.config, new ArgumentValidator(), this.#limits);
        if (this.#closing) {
          await closeLink(link);
          throw new McpCallError("disconnected", `MCP server "${dead.name}" is not connected`);
        }
        link.onToolsChanged = () => this.#toolsChanged(link.name);
        this.#links.set(dead.name, link);
        this.#skipped = [...this.#skipped.filter((s) => s.server !== dead.name), ...skipped];
        this.#version++;
        revival.delayMs = 0;
        return link;
      } catch (e) {
        if (e instanceof McpCallError) throw e;
        revival.delayMs = Math.min(RECONNECT_MAX_DELAY_MS, Math.max(RECONNECT_FIRST_DELAY_MS, revival.delayMs * 2));
        revival.notBefore = performance.now() + revival.delayMs;
        const reason = e instanceof McpConnectError ? e.message : `MCP server "${dead.name}" could not reconnect`;
        throw new McpCallError("disconnected", `${reason} (after it dropped; next attempt in ${Math.ceil(revival.delayMs / 1000)} s)`);
      } finally {
        revival.pending = undefined;
      }
    })();
    return revival.pending;
  }

  /** Closes every client; stdio children get stdin closed, then SIGTERM, then SIGKILL (the SDK's ladder). Idempotent. */
  close(): Promise<void> {
    // A reconnect under way ends its new child itself once it sees #closing; it is awaited too, so
    // no server process outlives close().
    for (const r of this.#relistings.values()) clearTimeout(r.timer);
    this.#closing ??= Promise.allSettled([
      ...[...this.#links.values()].map((l) => closeLink(l)),
      ...[...this.#revivals.values()].map((r) => r.pending),
    ]).then(() => undefined);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * The arguments exactly as they will be sent: a JSON object, within the size cap, valid for the tool.
 * Validation runs on the JSON round-trip, not on the caller's object (threat: `toJSON`, getters or
 * `undefined` members making what was checked differ from what the server receives).
 */
function wireArguments(entry: ListedTool, label: string, args: unknown, maxBytes: number): Record<string, unknown> {
  const refuse = (why: string) => new McpCallError("invalid_arguments", `invalid arguments for ${label}: ${why}`);
  let text: string | undefined;
  try {
    text = JSON.stringify(args === undefined ? {} : args);
  } catch {
    throw refuse("arguments must be JSON (no cycles, BigInt or functions)");
  }
  // MCP arguments are a JSON object whatever the schema says (threat: a permissive `{}` schema letting
  // an array or a string through to a server that indexes it).
  if (text === undefined || !text.startsWith("{")) throw refuse("arguments must be an object");
  if (Buffer.byteLength(text) > maxBytes) throw refuse(`larger than ${maxBytes} bytes`);
  const wire = JSON.parse(text) as Record<string, unknown>;
  const invalid = entry.check(wire);
  if (invalid !== null) throw new McpCallError("invalid_arguments", invalid);
  return wire;
}

/** The stdio child, if it still runs: ended for good (one disposal path even when connect failed). */
function killChild(pid: number | null): void {
  if (pid === null) return;
  try { process.kill(pid, "SIGKILL"); } catch { /* already gone */ }
}

async function closeLink(link: ServerLink): Promise<void> {
  link.closed = true;
  await link.client.close().catch(() => {});
  // Threat: a server that ignores stdin's end and SIGTERM would outlive the sandbox. The pid is read
  // after the close: one whose process already closed was forgotten (it may belong to another by now).
  killChild(link.pid());
}

async function connectServer(
  name: string,
  config: McpServer,
  validator: ArgumentValidator,
  limits: { timeoutMs: number; maxMessageBytes: number; maxTools: number },
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

function callFailure(link: ServerLink, label: string, e: unknown, timeoutMs: number, signal: AbortSignal | undefined): McpCallError {
  if (signal?.aborted) return new McpCallError("aborted", `call to ${label} was aborted`);
  const code = e instanceof McpError ? e.code : undefined;
  if (e instanceof MessageTooLargeError || code === TOO_LARGE_CODE || link.oversize) {
    return new McpCallError("too_large", `${label}: the MCP server's answer exceeded the size limit`);
  }
  if (code === ErrorCode.RequestTimeout) return new McpCallError("timeout", `${label} did not answer within ${timeoutMs} ms`);
  if (code === ErrorCode.ConnectionClosed || code === BROKEN_STREAM_CODE || link.closed) {
    return new McpCallError("disconnected", `MCP server "${link.name}" closed the connection during the call to ${label}`);
  }
  if (e instanceof McpError) {
    // A JSON-RPC error from the server: its own words, redacted, without the SDK's "MCP error N:" prefix.
    return new McpCallError("protocol", `${label}: ${link.redactor.redact(e.message.replace(/^MCP error -?\d+: /, ""))}`);
  }
  if (e instanceof StreamableHTTPError) {
    // Its text quotes the response body and can name the endpoint: only the status is passed on.
    return new McpCallError("disconnected", `MCP server "${link.name}" answered HTTP ${e.code ?? "error"} to the call to ${label}`);
  }
  if (e instanceof TypeError || (e as { code?: unknown } | null)?.code !== undefined) {
    // fetch failures, HTTP status errors: their text can name the address, so it is not passed on.
    return new McpCallError("disconnected", `MCP server "${link.name}" is unreachable`);
  }
  // Anything else (a malformed result the SDK's schema refused, an output-schema mismatch) is summarised.
  return new McpCallError("protocol", `${label}: the MCP server answered with a malformed result`);
}
