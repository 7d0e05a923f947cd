// Request headers a guest may send, and response headers as the guest sees them.

/**
 * Headers the guest may not set, each for a reason:
 * - host: Host override would aim an allowed connection at another virtual host (the allow-list
 *   judged the URL's host; the Host header is always that host).
 * - content-length, transfer-encoding, expect, te, trailer: message framing is the host's; a guest
 *   value could desynchronise the request (request smuggling) or stall it (100-continue).
 * - connection, keep-alive, upgrade, http2-settings, proxy-*: hop-by-hop; upgrade would turn the
 *   connection into an unmetered tunnel (WebSocket/h2c) past the size cap.
 * - accept-encoding: the host asks for identity bodies so the size cap counts the bytes the guest
 *   gets (no decompression bomb).
 */
export const FORBIDDEN_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "expect",
  "te",
  "trailer",
  "connection",
  "keep-alive",
  "upgrade",
  "http2-settings",
  "accept-encoding",
]);

/** Methods a guest may use. CONNECT (tunnel), TRACE/TRACK (echo, XST) and custom verbs are refused. */
/** Headers only the host sets (framing, routing, proxies): the one test for them. */
export function isHostOnlyHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return FORBIDDEN_REQUEST_HEADERS.has(lower) || lower.startsWith("proxy-");
}

export const GUEST_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

export const MAX_REQUEST_HEADERS = 100;
export const MAX_REQUEST_HEADER_BYTES = 64 * 1024;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // RFC 9110 field-name
// RFC 9110 field-value as Node will send it: no CR/LF (header injection), NUL or other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const METHOD_OVERRIDES = new Set(["x-http-method", "x-http-method-override", "x-method-override"]);

export type HeaderPairs = Array<[string, string]>;

/**
 * Validates guest headers given as a record or as [name, value] pairs (what `[...new Headers()]`
 * yields). Returns lowercased pairs, duplicates joined with ", " as fetch's Headers does, or an
 * error message. Reads own enumerable keys itself, so a `__proto__` key is judged like any other.
 */
export function validateRequestHeaders(input: unknown): HeaderPairs | string {
  const entries = Array.isArray(input) ? input : isPlainObject(input) ? Object.entries(input) : undefined;
  if (!entries) return "headers must be an object of strings or a list of [name, value] pairs";
  if (entries.length > MAX_REQUEST_HEADERS) return `at most ${MAX_REQUEST_HEADERS} headers`;
  const merged = new Map<string, string>();
  let bytes = 0;
  for (const entry of entries as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string" || typeof entry[1] !== "string") {
      return "each header must be a [name, value] pair of strings";
    }
    const name = entry[0].toLowerCase();
    const value = entry[1].replace(/^[\t ]+|[\t ]+$/g, "");
    if (!TOKEN.test(name)) return `invalid header name ${JSON.stringify(entry[0].slice(0, 64))}`;
    if (!FIELD_VALUE.test(value)) return `header ${name} contains a forbidden character (CR, LF, NUL or a control)`;
    if (isHostOnlyHeader(name)) return `header ${name} cannot be set by the guest`;
    // Threat: smuggling a refused method past the method check through an override header.
    if (METHOD_OVERRIDES.has(name) && /\b(CONNECT|TRACE|TRACK)\b/i.test(value)) return `header ${name} names a refused method`;
    bytes += name.length + value.length + 4;
    if (bytes > MAX_REQUEST_HEADER_BYTES) return `headers are larger than ${MAX_REQUEST_HEADER_BYTES} bytes`;
    const prior = merged.get(name);
    merged.set(name, prior === undefined ? value : `${prior}, ${value}`);
  }
  return [...merged];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Response headers from Node's rawHeaders: lowercased names, repeated fields joined with ", " (as
 * fetch's Headers.get does, set-cookie included). Null-prototype so a `__proto__` header from a
 * hostile server is an ordinary key.
 */
export function responseHeaders(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}
