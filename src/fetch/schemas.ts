// Zod schemas: the single source of truth for the fetch capability's options (embedder side) and for
// the request a guest sends and the response it gets back.
import { X509Certificate } from "node:crypto";
import tls from "node:tls";
import { z } from "zod";
import { parseCidr, type PrivatePolicy } from "./address-guard.ts";
import { parseAllowEntry, type AllowRule } from "./allow-list.ts";
import { GUEST_METHODS, validateRequestHeaders, type HeaderPairs } from "./headers.ts";

const MiB = 1024 * 1024;
export const DEFAULT_FETCH_MAX_RESPONSE_BYTES = 10 * MiB;
export const DEFAULT_FETCH_MAX_REQUEST_BYTES = 10 * MiB;
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
export const DEFAULT_FETCH_MAX_REDIRECTS = 5;
export const MAX_URL_LENGTH = 16 * 1024;

// Entries and CIDRs are validated here but stay strings in the output, so parsed options are plain
// data: they can be embedded in SandboxOptionsSchema, cross a process boundary, and be parsed again.
// createGuardedFetch compiles them (compileFetchOptions) once.
const AllowEntrySchema = z
  .string()
  .max(2048)
  .superRefine((entry, ctx) => {
    const rule = parseAllowEntry(entry);
    if (typeof rule === "string") ctx.addIssue({ code: "custom", message: `allow entry ${JSON.stringify(entry)}: ${rule}` });
  });

/** PEM certificates (one or a bundle per string), each checked to parse as an X.509 certificate. */
const CaSchema = z
  .array(
    z
      .string()
      .max(MiB)
      .refine(
        (pem) => {
          try {
            return pemCertificates(pem).length > 0;
          } catch {
            return false;
          }
        },
        { error: "is not a PEM certificate (or bundle)" },
      ),
  )
  .max(64);

/** The certificates of a PEM string (a bundle gives several); throws when one does not parse. */
export function pemCertificates(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  for (const b of blocks) new X509Certificate(b);
  return blocks;
}

const PrivateAddressesSchema = z.union([
  z.boolean(),
  z
    .array(
      z
        .string()
        .max(64)
        .refine((text) => parseCidr(text) !== undefined, { error: (i) => `${JSON.stringify(i.input)} is not an IP address or CIDR` }),
    )
    .max(256),
]);

export const FetchOptionsSchema = z.strictObject({
  /** Hosts or URL patterns a guest may fetch; see allow-list.ts for the grammar. */
  allow: z.array(AllowEntrySchema).min(1).max(1024),
  /**
   * Non-public addresses named hosts may resolve to: false (default), true (loopback, private,
   * CGNAT, link-local, unique-local… but never unspecified, multicast or broadcast), or CIDRs.
   * An allow entry that is an IP literal, or `localhost`, unlocks that address / loopback by itself.
   */
  allowPrivateAddresses: PrivateAddressesSchema.default(false),
  maxResponseBytes: z
    .number()
    .int()
    .nonnegative()
    .max(1024 * MiB)
    .default(DEFAULT_FETCH_MAX_RESPONSE_BYTES),
  maxRequestBytes: z
    .number()
    .int()
    .nonnegative()
    .max(1024 * MiB)
    .default(DEFAULT_FETCH_MAX_REQUEST_BYTES),
  /** One deadline for the whole fetch: every hop, connect, headers and body. */
  timeoutMs: z
    .number()
    .int()
    .positive()
    .max(10 * 60_000)
    .default(DEFAULT_FETCH_TIMEOUT_MS),
  maxRedirects: z.number().int().min(0).max(20).default(DEFAULT_FETCH_MAX_REDIRECTS),
  /**
   * Extra certificate authorities for https (PEM), trusted in addition to Node's bundled roots: for
   * internal services behind a private CA. Certificates are verified either way; nothing turns
   * verification off.
   */
  ca: CaSchema.optional(),
});
export type FetchOptions = z.input<typeof FetchOptionsSchema>;
export type ResolvedFetchOptions = z.output<typeof FetchOptionsSchema>;

/** Parsed options with the allow-list and private-address policy compiled for matching. */
export type CompiledFetchOptions = Omit<ResolvedFetchOptions, "allow" | "allowPrivateAddresses" | "ca"> & {
  allow: AllowRule[];
  allowPrivateAddresses: PrivatePolicy;
  /** With `ca`: Node's bundled roots plus those certificates (tls.connect's `ca` replaces the roots). */
  trusted?: readonly string[];
};

export function compileFetchOptions(opts: ResolvedFetchOptions): CompiledFetchOptions {
  const allow = opts.allow.map((entry) => parseAllowEntry(entry) as AllowRule); // validated by the schema
  const p = opts.allowPrivateAddresses;
  const allowPrivateAddresses = typeof p === "boolean" ? p : p.map((text) => parseCidr(text)!);
  const { ca, ...rest } = opts;
  const extra = ca?.flatMap((pem) => pemCertificates(pem));
  return {
    ...rest,
    allow,
    allowPrivateAddresses,
    ...(extra?.length ? { trusted: Object.freeze([...tls.rootCertificates, ...extra]) } : {}),
  };
}

const HeadersSchema = z.unknown().transform((input, ctx): HeaderPairs => {
  const result = validateRequestHeaders(input);
  if (typeof result === "string") {
    ctx.addIssue({ code: "custom", message: result });
    return z.NEVER;
  }
  return result;
});

/**
 * What a guest sends. `body` is a string (sent as UTF-8) or a Uint8Array (sent byte for byte);
 * its size is checked against maxRequestBytes by the guarded fetch.
 */
export const GuestFetchRequestSchema = z.strictObject({
  url: z.string().min(1).max(MAX_URL_LENGTH),
  method: z
    .string()
    .max(16)
    .default("GET")
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(GUEST_METHODS, { message: `method must be one of ${GUEST_METHODS.join(", ")}` })),
  headers: HeadersSchema.optional(),
  body: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
  /** As in fetch: follow (default), manual (return the 3xx itself), error (reject on a redirect). */
  redirect: z.enum(["follow", "manual", "error"]).default("follow"),
});
export type GuestFetchRequest = z.input<typeof GuestFetchRequestSchema>;
export type ParsedGuestFetchRequest = z.output<typeof GuestFetchRequestSchema>;

export const GuestFetchResponseSchema = z.strictObject({
  status: z.number().int().min(100).max(999),
  statusText: z.string(),
  /** Lowercased names; repeated fields joined with ", ". */
  headers: z.record(z.string(), z.string()),
  body: z.instanceof(Uint8Array),
  /** The final URL after redirects, without fragment. */
  url: z.string(),
  redirected: z.boolean(),
});
export type GuestFetchResponse = z.output<typeof GuestFetchResponseSchema>;
