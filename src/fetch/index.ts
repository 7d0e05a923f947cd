// The allow-listed fetch capability, host side: what runs in the embedding process when a guest
// calls fetch. The guest side and the guest→host call plumbing live elsewhere.
export { createGuardedFetch, type GuardedFetch, type GuardedFetchDeps } from "./guarded-fetch.ts";
export {
  FetchOptionsSchema,
  GuestFetchRequestSchema,
  GuestFetchResponseSchema,
  DEFAULT_FETCH_MAX_RESPONSE_BYTES,
  DEFAULT_FETCH_MAX_REQUEST_BYTES,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_FETCH_MAX_REDIRECTS,
  type FetchOptions,
  type ResolvedFetchOptions,
  type GuestFetchRequest,
  type ParsedGuestFetchRequest,
  type GuestFetchResponse,
} from "./schemas.ts";
export { FetchError, type FetchErrorCode } from "./errors.ts";
export { FORBIDDEN_REQUEST_HEADERS, GUEST_METHODS, isHostOnlyHeader } from "./headers.ts";
export {
  directConnector,
  systemResolver,
  type FetchConnector,
  type FetchResolver,
  type ConnectTarget,
  type ResolvedAddress,
} from "./connect.ts";
