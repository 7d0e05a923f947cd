// Redirects, followed by hand so each hop is re-matched against the allow-list and the address
// guard (the fetch spec's rules for method and header changes, plus isobox's own refusals).
import { FetchError } from "./errors.ts";
import type { ExchangeRequest } from "./exchange.ts";

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = new Set(["content-type", "content-encoding", "content-language", "content-location"]);
// Credentials the guest meant for one origin; the fetch spec drops Authorization on cross-origin hops.
const CREDENTIAL_HEADERS = new Set(["authorization", "cookie"]);

type Head = { status: number; headers: Record<string, string> };

/** A redirect the guarded fetch will follow (or refuse) rather than hand to the guest. */
export function isFollowedRedirect(res: Head, mode: "follow" | "manual" | "error"): boolean {
  return mode !== "manual" && REDIRECT_STATUSES.has(res.status) && res.headers.location !== undefined;
}

/** The request for the next hop. Checks that need no network happen here; the rest on the next hop. */
export function nextHop(prev: ExchangeRequest, res: Head): ExchangeRequest {
  let url: URL;
  try {
    url = new URL(res.headers.location!, prev.url);
  } catch {
    throw new FetchError("network", `fetch failed: ${prev.url.origin} redirected to an invalid URL`);
  }
  url.hash = "";
  // Threat: a TLS origin silently handing the request (and what the guest put in it) to plaintext,
  // where anyone on the path can read or alter it. Refused always; the guest can ask for http:// itself.
  if (prev.url.protocol === "https:" && url.protocol === "http:") {
    throw new FetchError("redirect_refused", `fetch refused: ${prev.url.origin} redirected from https to http`);
  }
  let { method, body, headers } = prev;
  const toGet = res.status === 303 ? method !== "HEAD" : (res.status === 301 || res.status === 302) && method === "POST";
  if (toGet) {
    method = "GET";
    body = undefined;
    headers = headers.filter(([name]) => !BODY_HEADERS.has(name));
  }
  if (url.origin !== prev.url.origin) headers = headers.filter(([name]) => !CREDENTIAL_HEADERS.has(name));
  return { url, method, body, headers };
}
