// Public surface of the MCP layer (host side): configuration schema, the connected tool set, errors.
export { McpServersSchema, McpServerSchema, McpConnectOptionsSchema, RESERVED_NAMES } from "./schemas.ts";
export type { McpServers, McpServer, McpConnectOptions, McpTool, SkippedMcpTool, JsonSchema } from "./schemas.ts";
export {
  McpTools,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_TOOLS_PER_SERVER,
} from "./tools.ts";
export type { McpCallOptions } from "./tools.ts";
export { McpCallError, McpConnectError } from "./errors.ts";
export type { McpCallErrorCode } from "./errors.ts";
export { isSafeAlias, MAX_TOOL_NAME_CHARS } from "./names.ts";
