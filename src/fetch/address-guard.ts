// The address guard: decides whether the host may open a connection to one IP address on a guest's
// behalf. It runs on every address a name resolves to and on IP literals, immediately before the
// connector dials that exact address (no DNS-rebinding gap: what was checked is what is dialled),
// and again on every redirect hop. Range data comes from ipaddr.js (maintained IANA special-purpose
// tables), not a hand table.
import ipaddr from "ipaddr.js";

/** What an allow-list rule itself permits beyond public addresses. */
export type RuleExemption =
  | { kind: "address"; address: string } // the entry is this IP literal: the embedder named it
  | { kind: "loopback" }; // the entry is `localhost[:port]`: loopback and nothing else

/** From `allowPrivateAddresses`: false, true (every non-public range but the never-ranges), or CIDRs. */
export type PrivatePolicy = boolean | ReadonlyArray<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

export type AddressVerdict = { ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string };

// Threat: 0.0.0.0 / :: dial the local host on Linux; multicast and broadcast are never a web server.
// No option or allow entry unlocks these.
const NEVER = new Set(["unspecified", "multicast", "broadcast"]);

// Threat: IPv6 ranges outside the global-unicast block that ipaddr.js still labels "unicast", e.g.
// the deprecated IPv4-compatible ::7f00:1 (= ::127.0.0.1). Only 2000::/3 is public IPv6.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3") as [ipaddr.IPv6, number];

const REASONS: Record<string, string> = {
  unspecified: "the unspecified address",
  multicast: "a multicast address",
  broadcast: "the broadcast address",
  loopback: "a loopback address",
  private: "a private address",
  linkLocal: "a link-local address", // 169.254.169.254 cloud metadata lives here
  carrierGradeNat: "a carrier-grade NAT address",
  uniqueLocal: "a unique-local address",
  rfc6052: "a NAT64 address", // embeds an IPv4 address the NAT64 gateway would dial for us
  rfc6145: "an IPv4-translated address",
  "6to4": "a 6to4 address",
  teredo: "a Teredo address",
  reserved: "a reserved address",
};

/** The range name of an address: ipaddr.js's, with non-global IPv6 "unicast" called "reserved". */
export function addressRange(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  const range = addr.range();
  if (range === "unicast" && addr.kind() === "ipv6" && !(addr as ipaddr.IPv6).match(GLOBAL_UNICAST_V6)) return "reserved";
  return range;
}

/**
 * Checks one address against the exemptions of the allow rules that matched the URL and the
 * `allowPrivateAddresses` policy. `raw` is whatever the resolver or the URL produced; a string that is not an IP
 * is refused (threat: a resolver returning a name, making the connector resolve again unguarded).
 */
export function checkAddress(raw: string, exemptions: readonly RuleExemption[], policy: PrivatePolicy): AddressVerdict {
  if (!ipaddr.isValid(raw)) return { ok: false, reason: "not an IP address" };
  // process(): IPv4-mapped IPv6 (::ffff:127.0.0.1) becomes the IPv4 it is, so it is judged as such.
  const addr = ipaddr.process(raw);
  const address = addr.toString();
  const family = addr.kind() === "ipv4" ? 4 : 6;
  const range = addressRange(addr);
  if (NEVER.has(range)) return { ok: false, reason: REASONS[range]! };
  if (range === "unicast") return { ok: true, address, family };
  const exempt = exemptions.some((e) => (e.kind === "address" ? e.address === address : range === "loopback"));
  if (exempt) return { ok: true, address, family };
  if (policy === true) return { ok: true, address, family };
  if (Array.isArray(policy) && policy.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits))) {
    return { ok: true, address, family };
  }
  return { ok: false, reason: REASONS[range] ?? "a non-public address" };
}

/** Normalises an IP literal as the guard compares it ("::ffff:127.0.0.1" → "127.0.0.1"). */
export function normaliseAddress(raw: string): string | undefined {
  return ipaddr.isValid(raw) ? ipaddr.process(raw).toString() : undefined;
}

/** Parses an `allowPrivateAddresses` entry: a CIDR ("10.0.0.0/8") or a single address. */
export function parseCidr(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    if (text.includes("/")) return ipaddr.parseCIDR(text);
    if (!ipaddr.isValid(text)) return undefined;
    const addr = ipaddr.process(text);
    return [addr, addr.kind() === "ipv4" ? 32 : 128];
  } catch {
    return undefined;
  }
}
