// The guest's fetch call as it crosses the capability door, adapted to the guarded fetch
// (src/fetch/): the guest sends JSON (a binary body as base64), gets JSON back (the body as base64).
// Headers that only the host may set are dropped here, as a browser's fetch drops them silently;
// everything else is validated by the guarded fetch.
import { createGuardedFetch, isHostOnlyHeader, type FetchOptions, type GuardedFetchDeps } from "../fetch/index.ts";

export type GuestFetchCall = (request: unknown, signal: AbortSignal) => Promise<unknown>;

export function fetchCapability(options: FetchOptions, deps?: GuardedFetchDeps): GuestFetchCall {
  const guarded = createGuardedFetch(options, deps);
  return async (request, signal) => {
    const r = { ...(request as Record<string, unknown>) };
    if (typeof r.bodyBase64 === "string") {
      r.body = new Uint8Array(Buffer.from(r.bodyBase64, "base64"));
      delete r.bodyBase64;
    }
    if (r.headers && typeof r.headers === "object" && !Array.isArray(r.headers)) {
      const kept: Record<string, string> = {};
      for (const [name, value] of Object.entries(r.headers as Record<string, unknown>)) {
        if (isHostOnlyHeader(name)) continue;
        kept[name] = String(value);
      }
      r.headers = kept;
    }
    const response = await guarded(r, signal);
    return {
      status: response.status,
      statusText: response.statusText,
      headers: { ...response.headers },
      url: response.url,
      redirected: response.redirected,
      bodyBase64: Buffer.from(response.body).toString("base64"),
    };
  };
}
