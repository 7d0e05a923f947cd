// Allow-list entries: parsed once when the sandbox is created, matched against every URL a guest
// asks for and against every redirect target. Grammar (see README "fetch"):
//   api.example.com        exact host, http or https, the scheme's default port
//   *.example.com          any subdomain at any depth (not example.com itself)
//   *                      any host (the address guard still refuses non-public addresses)
//   api.example.com:8443   explicit port; `:*` = any port
//   127.0.0.1:8080 [::1]:8080 localhost:8080   IP literal / localhost: also unlocks that address / loopback
//   https://api.example.com/v1/   URL prefix: that scheme only, and paths under /v1/
// Hand-written on purpose: no maintained library matches this URL-pattern grammar; the parsing of
// every host and path is delegated to the WHATWG URL parser so spellings normalise the same way the
// guest's URL does (2130706433 → 127.0.0.1, EXAMPLE.com → example.com, /a/../b → /b).
import { isIPv4 } from "node:net";
import { normaliseAddress, type RuleExemption } from "./address-guard.ts";

export type Scheme = "http:" | "https:";
export type HostPattern = { kind: "any" } | { kind: "exact"; name: string } | { kind: "subdomain"; suffix: string };

export type AllowRule = {
  readonly source: string;
  readonly schemes: readonly Scheme[];
  readonly host: HostPattern;
  readonly port: number | "default" | "any";
  readonly pathPrefix?: string;
  readonly exemption?: RuleExemption;
};

export const DEFAULT_PORTS: Record<Scheme, number> = { "http:": 80, "https:": 443 };

/** Parses one entry, or returns a message saying why it is not one. */
export function parseAllowEntry(entry: string): AllowRule | string {
  if (!/^[\x21-\x7e]+$/.test(entry)) return "must be printable ASCII without spaces (write IDN hosts in punycode)";
  const prefixed = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(entry);
  if (!prefixed) {
    const authority = parseAuthority(entry);
    return typeof authority === "string" ? authority : { source: entry, schemes: ["http:", "https:"], ...authority };
  }
  const [, scheme = "", hostPort = "", rest = ""] = prefixed;
  const lower = `${scheme.toLowerCase()}:`;
  if (lower !== "http:" && lower !== "https:") return "only http:// and https:// URL patterns are allowed";
  if (/[?#]/.test(rest)) return "a URL pattern cannot have a query or fragment";
  const authority = parseAuthority(hostPort);
  if (typeof authority === "string") return authority;
  const pathPrefix = new URL(rest || "/", "http://x").pathname;
  return { source: entry, schemes: [lower], ...authority, ...(pathPrefix === "/" ? {} : { pathPrefix }) };
}

type Authority = Pick<AllowRule, "host" | "port" | "exemption">;

function parseAuthority(text: string): Authority | string {
  let hostText = text;
  let portText: string | undefined;
  const close = text.startsWith("[") ? text.indexOf("]") : -1;
  const colon = text.startsWith("[") ? (text[close + 1] === ":" ? close + 1 : -1) : text.lastIndexOf(":");
  if (text.startsWith("[") && close === -1) return "unterminated IPv6 literal";
  if (close !== -1 && colon === -1 && close !== text.length - 1) return "unexpected text after the IPv6 literal";
  if (colon !== -1) {
    hostText = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  const port = parsePort(portText);
  if (typeof port === "object") return port.error;
  if (hostText === "*") return { host: { kind: "any" }, port };
  const wildcard = hostText.startsWith("*.");
  const name = normaliseHost(wildcard ? hostText.slice(2) : hostText);
  if (name.startsWith("!")) return name.slice(1);
  const literal = ipLiteral(name);
  if (wildcard) {
    if (literal) return "a wildcard cannot apply to an IP address";
    return { host: { kind: "subdomain", suffix: `.${name}` }, port };
  }
  if (literal) return { host: { kind: "exact", name }, port, exemption: { kind: "address", address: literal } };
  if (name === "localhost") return { host: { kind: "exact", name }, port, exemption: { kind: "loopback" } };
  return { host: { kind: "exact", name }, port };
}

function parsePort(text: string | undefined): AllowRule["port"] | { error: string } {
  if (text === undefined) return "default";
  if (text === "*") return "any";
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  return n >= 1 && n <= 65535 ? n : { error: `invalid port "${text}"` };
}

/** The WHATWG-normalised host, or "!reason". */
function normaliseHost(text: string): string {
  if (text === "" || /[/?#@\\*%]/.test(text)) return `!invalid host "${text}"`;
  let url: URL;
  try {
    url = new URL(`http://${text}/`);
  } catch {
    return `!invalid host "${text}"`;
  }
  if (url.port !== "") return `!invalid host "${text}"`;
  if (url.hostname.endsWith(".")) return "!hosts ending with a dot are not accepted";
  return url.hostname;
}

/** The normalised address if a URL hostname is an IP literal ("[::1]" → "::1"). */
export function ipLiteral(hostname: string): string | undefined {
  if (hostname.startsWith("[") && hostname.endsWith("]")) return normaliseAddress(hostname.slice(1, -1));
  return isIPv4(hostname) ? normaliseAddress(hostname) : undefined;
}

export function effectivePort(url: URL): number {
  return url.port === "" ? DEFAULT_PORTS[url.protocol as Scheme] : Number(url.port);
}

function matchesRule(rule: AllowRule, url: URL): boolean {
  if (!rule.schemes.includes(url.protocol as Scheme)) return false;
  const host = url.hostname;
  const h = rule.host;
  if (h.kind === "exact" && host !== h.name) return false;
  if (h.kind === "subdomain" && !(host.endsWith(h.suffix) && host.length > h.suffix.length)) return false;
  if (rule.port === "default" && effectivePort(url) !== DEFAULT_PORTS[url.protocol as Scheme]) return false;
  if (typeof rule.port === "number" && effectivePort(url) !== rule.port) return false;
  if (rule.pathPrefix === undefined) return true;
  // Threat: escaping the prefix through encoded dots, slashes or backslashes that the URL parser
  // leaves alone but the server decodes (/v1/%2e%2e/admin, /v1%2F..%2Fadmin).
  if (/%(2e|2f|5c)/i.test(url.pathname)) return false;
  const p = rule.pathPrefix;
  return p.endsWith("/") ? url.pathname.startsWith(p) : url.pathname === p || url.pathname.startsWith(`${p}/`);
}

/** Every rule that admits the URL (their exemptions add up); empty when the URL is not allowed. */
export function matchAllowList(rules: readonly AllowRule[], url: URL): AllowRule[] {
  return rules.filter((rule) => matchesRule(rule, url));
}
