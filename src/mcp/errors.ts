// Named errors of the MCP layer. Two audiences, two classes:
// - McpConnectError is for the embedder (createSandbox fails): it names the server, never its URL's
//   credentials or header values.
// - McpCallError is what a guest's `host.<server>.<tool>()` rejects/raises with: its message is fit to
//   show the guest (redacted, bounded, no host stack) and `code` says what kind of failure it was.

export type McpCallErrorCode =
  | "invalid_arguments" // refused before the server saw anything
  | "unknown_tool"
  | "tool_error" // the tool answered with isError: true
  | "timeout"
  | "aborted"
  | "disconnected" // the server died, closed, or is unreachable
  | "too_large" // a message from the server exceeded maxMessageBytes
  | "protocol"; // the server answered with a JSON-RPC error or a malformed result

const MAX_MESSAGE_CHARS = 4096;

export function boundMessage(message: string): string {
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 3)}...` : message;
}

export class McpCallError extends Error {
  override name = "McpCallError";
  readonly code: McpCallErrorCode;
  constructor(code: McpCallErrorCode, message: string) {
    super(boundMessage(message));
    this.code = code;
    // Threat: a host stack (paths, dependency versions) travelling into the guest with the message.
    this.stack = `${this.name}: ${this.message}`;
  }
}

export class McpConnectError extends Error {
  override name = "McpConnectError";
  readonly server: string;
  constructor(server: string, reason: string, options?: { cause?: unknown }) {
    super(boundMessage(`MCP server "${server}": ${reason}`), options);
    this.server = server;
  }
}

/**
 * Removes every secret of one server's configuration (header values, the URL and its parts, env values
 * given to a stdio child) from text that is about to leave the host: error messages from the SDK, the
 * transport, or the server itself (threat: a server echoing `Authorization: Bearer …` in an error).
 */
export class SecretRedactor {
  readonly #secrets: string[];
  constructor(secrets: Iterable<string>) {
    // Longest first, so a URL is replaced whole before its host would be. Very short values are skipped:
    // redacting "1" would shred every message and protects nothing.
    this.#secrets = [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  }
  redact(text: string): string {
    let out = text;
    for (const s of this.#secrets) out = out.split(s).join("[redacted]");
    return out;
  }
}

/** The secret strings of one server's configuration. */
export function secretsOf(config: { url?: string; headers?: Record<string, string>; env?: Record<string, string> }): string[] {
  const out: string[] = [];
  for (const v of Object.values(config.headers ?? {})) out.push(v, v.split(/\s+/).pop() ?? ""); // "Bearer <token>": the token alone too
  for (const v of Object.values(config.env ?? {})) out.push(v);
  if (config.url !== undefined) {
    const u = new URL(config.url);
    out.push(config.url, u.href, u.origin, u.host, u.hostname, u.pathname.length > 8 ? u.pathname : "" /* a long path may embed a key */);
    if (u.username) out.push(decodeURIComponent(u.username));
    if (u.password) out.push(decodeURIComponent(u.password));
    for (const v of u.searchParams.values()) out.push(v);
  }
  return out;
}
