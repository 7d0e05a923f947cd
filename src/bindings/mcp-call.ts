// Runs in: the embedding process.
// MCP tools as capabilities: the guest names a tool by its identifier-safe alias (the only names
// `host.<server>` has), this maps it back to the server's verbatim tool name through a Map (never an
// object lookup: tool names like "__proto__" are data), and tool failures get the guest-facing
// error names the other capabilities use.
import type { McpTool, McpTools } from "../mcp/index.ts";
import { GuestFacingError } from "./errors.ts";

/** Errors the guest sees by name: ValidationError for bad arguments, TimeoutError, else BindingError. */
const GUEST_NAMES: Record<string, string> = { invalid_arguments: "ValidationError", timeout: "TimeoutError" };

export class McpCapability {
  readonly #tools: McpTools;
  #byAlias = new Map<string, Map<string, McpTool>>();
  #version = -1;

  constructor(tools: McpTools) {
    this.#tools = tools;
  }

  /** The alias map of the servers' current listings (rebuilt when one was replaced). */
  #aliases(): Map<string, Map<string, McpTool>> {
    if (this.#version === this.#tools.version) return this.#byAlias;
    const byAlias = new Map<string, Map<string, McpTool>>();
    for (const t of this.#tools.tools()) {
      let server = byAlias.get(t.server);
      if (!server) byAlias.set(t.server, (server = new Map()));
      server.set(t.alias, t);
    }
    this.#byAlias = byAlias;
    this.#version = this.#tools.version;
    return byAlias;
  }

  /** What a job's guest is told: per server, the tool aliases (as listed when the job starts). */
  names(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [server, tools] of this.#aliases()) out[server] = [...tools.keys()];
    return out;
  }

  /** Every tool, for describe(): its path as the guest writes it. */
  entries(): Array<{ path: string[]; description?: string; inputSchema: McpTool["inputSchema"]; outputSchema?: McpTool["outputSchema"] }> {
    return this.#tools.tools().map((t) => ({
      path: [t.server, t.alias],
      ...(t.description !== undefined ? { description: t.description } : {}),
      inputSchema: t.inputSchema,
      ...(t.outputSchema !== undefined ? { outputSchema: t.outputSchema } : {}),
    }));
  }

  async call(server: string, alias: string, args: unknown, opts: { signal: AbortSignal; timeoutMs: number }): Promise<unknown> {
    const tool = this.#aliases().get(server)?.get(alias);
    if (!tool) throw new GuestFacingError("BindingError", `No MCP tool ${JSON.stringify(alias)} on server ${JSON.stringify(server)}`);
    try {
      // The sandbox's mcp.callTimeoutMs applies inside; the job's bindingTimeoutMs aborts `signal`.
      return await this.#tools.call(server, tool.name, args, { signal: opts.signal });
    } catch (e) {
      const code = (e as { code?: string }).code;
      const message = e instanceof Error ? e.message : String(e);
      throw new GuestFacingError((code && GUEST_NAMES[code]) ?? "BindingError", message);
    }
  }

  close(): Promise<void> {
    return this.#tools.close();
  }
}
