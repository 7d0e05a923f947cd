// Runs in: the embedding process. The two edges of one MCP tool call: the arguments as they will be
// sent (checked on their JSON round-trip), and a failed call turned into an McpCallError whose
// message is fit for the guest (threat: a hostile server's words, secrets or addresses in it).
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { McpCallError } from "./errors.ts";
import { BROKEN_STREAM_CODE, MessageTooLargeError, TOO_LARGE_CODE } from "./http-fetch.ts";
import type { ListedTool } from "./listing.ts";
import type { ServerLink } from "./server-link.ts";

/**
 * The arguments exactly as they will be sent: a JSON object, within the size cap, valid for the tool.
 * Validation runs on the JSON round-trip, not on the caller's object (threat: `toJSON`, getters or
 * `undefined` members making what was checked differ from what the server receives).
 */
export function wireArguments(entry: ListedTool, label: string, args: unknown, maxBytes: number): Record<string, unknown> {
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

/** A failed tools/call, as the guest is told of it: a code to branch on and a message of ours. */
export function callFailure(link: ServerLink, label: string, e: unknown, timeoutMs: number, signal: AbortSignal | undefined): McpCallError {
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
