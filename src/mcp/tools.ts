// Runs in: the embedding process.
// McpTools: the embedding process's connections to the configured MCP servers, and the one door
// through which a guest's `host.<server>.<tool>(args)` reaches them. It owns every SDK client (and so
// every stdio child process); `close()` is their single disposal path.
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { describeIssue } from "../contract/issues.ts";
import { ArgumentValidator } from "./arguments.ts";
import { callFailure, wireArguments } from "./call-failure.ts";
import { McpCallError, McpConnectError } from "./errors.ts";
import { listServerTools } from "./listing.ts";
import { displayName } from "./names.ts";
import { RelistSchedule } from "./relisting.ts";
import { unwrapToolResult } from "./result.ts";
import {
  McpConnectOptionsSchema,
  McpServersSchema,
  type McpConnectOptions,
  type McpServer,
  type McpServers,
  type McpTool,
  type SkippedMcpTool,
} from "./schemas.ts";
import { closeLink, connectServer, type ConnectLimits, type ServerLink } from "./server-link.ts";

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_TOOLS_PER_SERVER = 1000;

export interface McpCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Reconnect backoff after a failed attempt: doubles from the first to the last (threat: a crashing
 * server respawned in a tight loop by a guest calling it over and over). */
export const RECONNECT_FIRST_DELAY_MS = 1_000;
export const RECONNECT_MAX_DELAY_MS = 30_000;

/** How a dropped server comes back: its configuration, and when the next attempt may run. */
interface Revival {
  config: McpServer;
  delayMs: number;
  notBefore: number;
  pending?: Promise<ServerLink>;
}

export class McpTools {
  readonly #links: Map<string, ServerLink>;
  #skipped: SkippedMcpTool[];
  #version = 0;
  readonly #relisting = new RelistSchedule((name) => this.#relist(name));
  readonly #callTimeoutMs: number;
  readonly #maxMessageBytes: number;
  readonly #revivals = new Map<string, Revival>();
  readonly #limits: ConnectLimits;
  #closing: Promise<void> | undefined;

  private constructor(
    links: Map<string, ServerLink>,
    skipped: SkippedMcpTool[],
    callTimeoutMs: number,
    limits: ConnectLimits,
    configs: Record<string, McpServer>,
  ) {
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

  /** The server's tools changed (tools/list_changed): listed again when the schedule says. */
  #toolsChanged(name: string): void {
    if (!this.#closing) this.#relisting.changed(name);
  }

  /** A re-listing of a live server's tools (null: nothing to list, the server is gone or closed). */
  #relist(name: string): Promise<void> | null {
    const link = this.#links.get(name);
    if (!link || link.closed || this.#closing) return null;
    return this.#replaceListing(link);
  }

  /** Lists the server's tools again; the new listing replaces the old one if the link is still the server's. */
  async #replaceListing(link: ServerLink): Promise<void> {
    const { name } = link;
    // A fresh validator per listing: compiled schemas of tools that are gone are dropped with it.
    const listing = await listServerTools(name, link.client, new ArgumentValidator(), {
      maxTools: this.#limits.maxTools,
      signal: AbortSignal.timeout(this.#limits.timeoutMs),
      timeoutMs: this.#limits.timeoutMs,
    });
    if (this.#links.get(name) === link && !link.closed && !this.#closing) {
      link.tools = new Map(listing.tools.map((t) => [t.tool.name, t]));
      this.#skipped = [...this.#skipped.filter((s) => s.server !== name), ...listing.skipped];
      this.#version++;
    }
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
    if (entry === undefined)
      throw new McpCallError("unknown_tool", `MCP server "${link.name}" has no tool named "${displayName(String(tool))}"`);
    const wire = wireArguments(entry, label, args, this.#maxMessageBytes);
    const timeoutMs = opts.timeoutMs ?? this.#callTimeoutMs;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError("timeoutMs must be a positive integer");
    let result: CallToolResult;
    try {
      const request = { name: tool, arguments: wire };
      result = (await link.client.callTool(request, undefined, {
        timeout: timeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
      })) as CallToolResult;
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
      return Promise.reject(
        new McpCallError(
          "disconnected",
          `MCP server "${dead.name}" is not connected (next reconnect attempt in ${Math.ceil(waitMs / 1000)} s)`,
        ),
      );
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
    this.#relisting.close();
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
