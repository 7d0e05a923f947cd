// The host side of a guest's fetch: validate the request, then per hop: allow-list → resolve →
// address guard on every address → connect to exactly a checked address → exchange; redirects are
// followed by hand so each hop goes through all of it again.
import type { Socket } from "node:net";
import { describeIssue } from "../contract/issues.ts";
import { checkAddress, type RuleExemption } from "./address-guard.ts";
import { effectivePort, ipLiteral, matchAllowList, type AllowRule } from "./allow-list.ts";
import { directConnector, systemResolver, type FetchConnector, type FetchResolver, type ResolvedAddress } from "./connect.ts";
import { FetchError, networkError } from "./errors.ts";
import { exchange, type ExchangeRequest, type ExchangeResponse } from "./exchange.ts";
import { nextHop, isFollowedRedirect } from "./redirects.ts";
import {
  compileFetchOptions,
  FetchOptionsSchema,
  GuestFetchRequestSchema,
  type CompiledFetchOptions,
  type FetchOptions,
  type GuestFetchResponse,
  type ParsedGuestFetchRequest,
} from "./schemas.ts";

export type GuardedFetchDeps = { lookup?: FetchResolver; connect?: FetchConnector };
export type GuardedFetch = (req: unknown, signal?: AbortSignal) => Promise<GuestFetchResponse>;

// Threat: a name with very many addresses turning one fetch into a connection scan.
const MAX_ADDRESSES = 16;

export function createGuardedFetch(options: FetchOptions, deps: GuardedFetchDeps = {}): GuardedFetch {
  const parsed = FetchOptionsSchema.safeParse(options);
  if (!parsed.success) throw new TypeError(`isobox: invalid fetch options: ${describeIssue(parsed.error)}`);
  const opts = compileFetchOptions(parsed.data);
  const io = { lookup: deps.lookup ?? systemResolver, connect: deps.connect ?? directConnector };
  return async (raw, signal) => {
    const req = parseRequest(raw, opts);
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new FetchError("timeout", `fetch timed out after ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    const onCallerAbort = () => controller.abort(new FetchError("aborted", "fetch aborted"));
    if (signal?.aborted) onCallerAbort();
    signal?.addEventListener("abort", onCallerAbort, { once: true });
    try {
      return await follow(req, opts, io, controller.signal);
    } catch (err) {
      // Whatever a destroyed socket reported, the deadline or the caller's abort is the real cause.
      throw controller.signal.aborted ? controller.signal.reason : networkError(err, "the host");
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onCallerAbort);
    }
  };
}

function parseRequest(raw: unknown, opts: CompiledFetchOptions): ParsedGuestFetchRequest & { bytes: Buffer | undefined } {
  const parsed = GuestFetchRequestSchema.safeParse(raw);
  if (!parsed.success) {
    // Not describeIssue: its "(job)" label for the root would puzzle a guest that made one request.
    const text = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.length ? i.path.join(".") : "request"}: ${i.message}`)
      .join("; ");
    throw new FetchError("invalid_request", `fetch: invalid request: ${text}`);
  }
  const req = parsed.data;
  if (req.body !== undefined && (req.method === "GET" || req.method === "HEAD"))
    throw new FetchError("invalid_request", `fetch: a ${req.method} request cannot have a body`);
  // Threat: a guest-built body exhausting host memory or the upstream's patience (measured before copying).
  const size = req.body === undefined ? 0 : typeof req.body === "string" ? Buffer.byteLength(req.body, "utf8") : req.body.byteLength;
  if (size > opts.maxRequestBytes)
    throw new FetchError("invalid_request", `fetch: request body is larger than the ${opts.maxRequestBytes}-byte limit`);
  const bytes = req.body === undefined ? undefined : typeof req.body === "string" ? Buffer.from(req.body, "utf8") : Buffer.from(req.body);
  return { ...req, bytes };
}

type Io = { lookup: FetchResolver; connect: FetchConnector };

async function follow(
  req: ReturnType<typeof parseRequest>,
  opts: CompiledFetchOptions,
  io: Io,
  signal: AbortSignal,
): Promise<GuestFetchResponse> {
  let hop: ExchangeRequest = { url: parseUrl(req.url), method: req.method, headers: req.headers ?? [], body: req.bytes };
  if (typeof req.body === "string" && !hop.headers.some(([n]) => n === "content-type")) {
    hop = { ...hop, headers: [...hop.headers, ["content-type", "text/plain;charset=UTF-8"]] }; // as fetch does
  }
  for (let redirects = 0; ; redirects++) {
    const res = await fetchOnce(hop, opts, io, signal, req.redirect !== "manual");
    if (!isFollowedRedirect(res, req.redirect)) return toGuest(res, hop.url, redirects > 0);
    if (req.redirect === "error")
      throw new FetchError("redirect_refused", `fetch refused: ${hop.url.origin} redirected and redirect is "error"`);
    if (redirects >= opts.maxRedirects) throw new FetchError("redirect_refused", `fetch refused: more than ${opts.maxRedirects} redirects`);
    hop = nextHop(hop, res);
  }
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new FetchError("invalid_request", "fetch: invalid URL");
  }
}

function toGuest(res: ExchangeResponse, url: URL, redirected: boolean): GuestFetchResponse {
  const final = new URL(url);
  final.hash = "";
  return {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
    body: res.body ?? new Uint8Array(0),
    url: final.href,
    redirected,
  };
}

/** One hop: every check, then one connection that this function owns and always destroys. */
async function fetchOnce(
  hop: ExchangeRequest,
  opts: CompiledFetchOptions,
  io: Io,
  signal: AbortSignal,
  following: boolean,
): Promise<ExchangeResponse> {
  const rules = admit(hop.url, opts.allow);
  const addresses = await guardedAddresses(hop.url, rules, opts, io.lookup, signal);
  const socket = await connectFirst(addresses, hop.url, io.connect, signal, opts.trusted);
  try {
    const wantsBody = (status: number, headers: Record<string, string>) =>
      !(following && isFollowedRedirect({ status, headers }, "follow"));
    return await exchange(socket, hop, { maxResponseBytes: opts.maxResponseBytes, wantsBody }, signal);
  } finally {
    socket.destroy();
  }
}

/** URL-level checks and the allow-list; returns the rules that admit the URL. */
function admit(url: URL, allow: readonly AllowRule[]): AllowRule[] {
  // Threat: file:, data:, ftp:, gopher:, ws: … reaching something other than an HTTP server.
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new FetchError("not_allowed", `fetch refused: only http and https URLs can be fetched, not ${url.protocol}`);
  }
  // Threat: credentials in the URL (and the user@host confusion trick: http://allowed.com@evil.com/).
  if (url.username !== "" || url.password !== "")
    throw new FetchError("not_allowed", "fetch refused: URLs with user:password@ are not accepted");
  // Threat: "host." is another name for "host" to DNS but not to the allow-list or a virtual host.
  if (url.hostname.endsWith(".")) throw new FetchError("not_allowed", "fetch refused: host names ending with a dot are not accepted");
  if (effectivePort(url) === 0) throw new FetchError("not_allowed", "fetch refused: port 0");
  const rules = matchAllowList(allow, url);
  if (rules.length === 0) throw new FetchError("not_allowed", `fetch refused: ${url.origin}${url.pathname} is not in the fetch allow-list`);
  return rules;
}

/**
 * The addresses this hop may dial, every one checked. If any address of a name is refused the whole
 * name is (threat: a name with one public and one private address, where a fallback or a later
 * round-robin pick lands on the private one).
 */
async function guardedAddresses(
  url: URL,
  rules: AllowRule[],
  opts: CompiledFetchOptions,
  lookup: FetchResolver,
  signal: AbortSignal,
): Promise<ResolvedAddress[]> {
  const host = url.hostname;
  const literal = ipLiteral(host);
  const candidates =
    literal !== undefined
      ? [{ address: literal, family: literal.includes(":") ? 6 : 4 } as const]
      : // Threat: /etc/hosts or a resolver pointing localhost somewhere else. RFC 6761: always loopback.
        host === "localhost" || host.endsWith(".localhost")
        ? [{ address: "127.0.0.1", family: 4 } as const, { address: "::1", family: 6 } as const]
        : await resolve(host, lookup, signal);
  const exemptions = rules.flatMap((r): RuleExemption[] => (r.exemption ? [r.exemption] : []));
  const checked: ResolvedAddress[] = [];
  for (const candidate of candidates) {
    const verdict = checkAddress(candidate.address, exemptions, opts.allowPrivateAddresses);
    if (!verdict.ok)
      throw new FetchError("address_refused", `fetch refused: ${host} ${literal !== undefined ? "is" : "resolves to"} ${verdict.reason}`);
    checked.push({ address: verdict.address, family: verdict.family });
  }
  return checked.slice(0, MAX_ADDRESSES); // all judged, only the first few dialled
}

async function resolve(host: string, lookup: FetchResolver, signal: AbortSignal): Promise<readonly ResolvedAddress[]> {
  let found: ResolvedAddress[];
  try {
    found = await abortable(lookup(host, signal), signal);
  } catch (err) {
    throw signal.aborted ? signal.reason : networkError(err, host);
  }
  if (!Array.isArray(found) || found.length === 0) throw new FetchError("network", `fetch failed: could not resolve ${host}`);
  return found;
}

/** Tries each checked address in order; the first that connects is used. */
async function connectFirst(
  addresses: ResolvedAddress[],
  url: URL,
  connect: FetchConnector,
  signal: AbortSignal,
  ca: readonly string[] | undefined,
): Promise<Socket> {
  let last: unknown;
  for (const { address, family } of addresses) {
    try {
      const socket = await connect(
        {
          address,
          family,
          port: effectivePort(url),
          tls: url.protocol === "https:",
          servername: ipLiteral(url.hostname) === undefined ? url.hostname : undefined,
          ...(ca && url.protocol === "https:" ? { ca } : {}),
        },
        signal,
      );
      // A late socket error (after the exchange settled, or from any connector) must never become an
      // unhandled 'error' event that takes the embedding process down; the exchange has its own listeners.
      socket.on("error", () => {});
      return socket;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      last = err;
    }
  }
  throw networkError(last, url.hostname);
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
