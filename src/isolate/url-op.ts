// The host half of the guest's URL class: Node's WHATWG parser, strings in, strings out.
export const URL_OP_MAX = 2 * 1024 * 1024;
const FIELDS = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"] as const;
const SETTABLE = new Set<string>(FIELDS.filter((f) => f !== "origin"));

function fields(u: URL): string[] {
  return FIELDS.map((f) => u[f]);
}

export function urlOp(op: unknown, a: unknown, b: unknown, c: unknown): string[] | null {
  // Threat: megabyte strings copied into the host on every call; URLs past 2 MiB are refused.
  if (typeof a !== "string" || a.length > URL_OP_MAX) return null;
  if (op === "parse") {
    if (b !== undefined && (typeof b !== "string" || b.length > URL_OP_MAX)) return null;
    const u = URL.parse(a, b as string | undefined);
    return u ? fields(u) : null;
  }
  if (op === "set" && typeof b === "string" && SETTABLE.has(b) && typeof c === "string" && c.length <= URL_OP_MAX) {
    const u = URL.parse(a);
    if (!u) return null;
    try {
      (u as unknown as Record<string, string>)[b] = c;
    } catch {
      // a setter that rejects the value leaves the URL as it was (as in browsers for href throws)
      if (b === "href") throw new TypeError(`Invalid URL: ${c}`);
    }
    return fields(u);
  }
  return null;
}
