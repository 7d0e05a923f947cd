// MCP server configuration and the tool shape handed to the guest side. Zod is the single source of
// truth: the embedder's `mcp.servers` option is validated here, at the door.
import { z } from "zod";

/** Names that would reach an object's prototype machinery if a guest-side lookup ever used `obj[name]`. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

// Server names become `host.<server>` in both languages, so they must be plain identifiers (no `$`:
// Python has none) and never a prototype key (threat: `host.__proto__` rewiring the guest's host object).
const ServerNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "MCP server names are identifiers ([A-Za-z_][A-Za-z0-9_]*, at most 64 chars)")
  .refine((n) => !RESERVED_NAMES.has(n), "MCP server name is reserved (__proto__, constructor, prototype)");

// Header names/values are checked here so a bad credential fails at the door with the field named,
// not later inside fetch with a message that might echo the value.
const HeaderNameSchema = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "header names are HTTP tokens");
const HeaderValueSchema = z.string().refine((v) => !/[\r\n\0]/.test(v), "header values cannot contain CR, LF or NUL");

export const McpHttpServerSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: "MCP server urls are http: or https: URLs" }),
  headers: z.record(HeaderNameSchema, HeaderValueSchema).optional(),
});

export const McpStdioServerSchema = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).optional(),
  env: z.record(z.string().regex(/^[^=\0]+$/, "env names cannot contain '=' or NUL"), z.string()).optional(),
  cwd: z.string().min(1).optional(),
});

export const McpServerSchema = z.union([McpHttpServerSchema, McpStdioServerSchema]);
export type McpServer = z.infer<typeof McpServerSchema>;

// The key check runs on the raw object first: z.record silently drops an own `__proto__` key (from
// JSON.parse), so the refusal above would never see it (threat: a config that "loses" a server).
export const McpServersSchema = z
  .unknown()
  .superRefine((v, ctx) => {
    if (typeof v !== "object" || v === null) return;
    for (const k of Object.keys(v)) {
      if (RESERVED_NAMES.has(k))
        ctx.addIssue({ code: "custom", path: [k], message: "MCP server name is reserved (__proto__, constructor, prototype)" });
    }
  })
  .pipe(z.record(ServerNameSchema, McpServerSchema));
export type McpServers = z.input<typeof McpServersSchema>;

export const McpConnectOptionsSchema = z.strictObject({
  /** Per server: spawn/connect + initialize + listing every page of tools. */
  timeoutMs: z.number().int().positive().max(600_000).optional(),
  /** Default per-call timeout; `call(..., { timeoutMs })` overrides it. */
  callTimeoutMs: z
    .number()
    .int()
    .positive()
    .max(24 * 3600 * 1000)
    .optional(),
  /** Largest single message accepted from a server (a tool result, a page of tools). */
  maxMessageBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .optional(),
  /** Tools kept per server; the rest are listed in `skipped()`. */
  maxToolsPerServer: z.number().int().positive().max(100_000).optional(),
});
export type McpConnectOptions = z.input<typeof McpConnectOptionsSchema>;

export type JsonSchema = Record<string, unknown>;

/** One tool as the guest side sees it. `name` is verbatim (the key for `call`); `alias` is identifier-safe. */
export interface McpTool {
  server: string;
  name: string;
  alias: string;
  description?: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
}

/** A tool the server listed that is not exposed, and why (names truncated for display). */
export interface SkippedMcpTool {
  server: string;
  name: string;
  reason: string;
}
