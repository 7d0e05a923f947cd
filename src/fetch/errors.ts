// The one error a guest fetch rejects with. Its message is written to be shown to the guest as is:
// it names the URL's host and the rule that refused, never a resolved internal address, a host
// file path or a Node error text (those can carry internal IPs, e.g. "connect ECONNREFUSED 10.0.0.7:443").

export type FetchErrorCode =
  | "invalid_request" // the guest's request failed validation (bad URL, header, method, body)
  | "not_allowed" // the URL is outside the allow-list, or its scheme or userinfo is refused
  | "address_refused" // the host resolves to (or is) an address the guard refuses
  | "redirect_refused" // a redirect broke a rule (downgrade, too many, mode "error")
  | "too_large" // the response body exceeded maxResponseBytes
  | "timeout" // the whole fetch (all hops and the body) exceeded timeoutMs
  | "aborted" // the caller's AbortSignal fired
  | "network"; // DNS failure, connection refused, TLS failure, malformed response

export class FetchError extends Error {
  override readonly name = "FetchError";
  readonly code: FetchErrorCode;
  constructor(code: FetchErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Turns a Node network error into a FetchError without its message: Node's texts embed the
 * address and port actually dialled, which for a refused internal connection is what we must not
 * show. Only the stable error code is kept.
 */
export function networkError(err: unknown, host: string): FetchError {
  if (err instanceof FetchError) return err;
  const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : "";
  switch (code) {
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NODATA":
    case "EAI_NONAME":
      return new FetchError("network", `fetch failed: could not resolve ${host}`);
    case "ECONNREFUSED":
      return new FetchError("network", `fetch failed: connection to ${host} refused`);
    case "ECONNRESET":
    case "EPIPE":
      return new FetchError("network", `fetch failed: connection to ${host} was reset`);
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new FetchError("network", `fetch failed: ${host} is unreachable`);
    case "HPE_HEADER_OVERFLOW":
      return new FetchError("network", `fetch failed: response headers from ${host} are too large`);
    default:
      if (code.startsWith("HPE_")) return new FetchError("network", `fetch failed: malformed HTTP response from ${host}`);
      if (code.startsWith("ERR_TLS") || code.includes("CERT") || code.startsWith("ERR_SSL")) {
        return new FetchError("network", `fetch failed: TLS error talking to ${host} (${code})`);
      }
      return new FetchError("network", `fetch failed: network error talking to ${host}${code ? ` (${code})` : ""}`);
  }
}
