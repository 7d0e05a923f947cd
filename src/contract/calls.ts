// Runs in: every process, and its shapes are checked on the untrusted side of every hop. A guest's
// call of a host capability and the host's answer: one shape from the guest to the embedding
// process's CallDispatcher, whichever backend the guest runs on.
import { z } from "zod";

/**
 * `kind` says which table `name` is looked up in: a binding, an MCP tool (`server\u0000tool`, so no
 * tool name can spell another server's) or the fetch capability.
 */
export const MAX_CALL_NAME_CHARS = 1024;
export const MAX_CALL_ARGS_CHARS = 9 * 1024 * 1024;

export const CapabilityCallSchema = z.object({
  callId: z.number().int().nonnegative(),
  kind: z.enum(["binding", "mcp", "fetch"]),
  name: z.string().max(MAX_CALL_NAME_CHARS),
  argsJson: z.string().max(MAX_CALL_ARGS_CHARS),
});

/**
 * Why a call cannot travel (it would fail the schema at the next hop and be dropped there, leaving
 * the guest to wait its whole binding timeout), or null. Checked where a call leaves its guest.
 */
export function oversizedCall(name: string, argsJson: string): string | null {
  if (name.length > MAX_CALL_NAME_CHARS) return `The capability's name is longer than ${MAX_CALL_NAME_CHARS} characters`;
  if (argsJson.length > MAX_CALL_ARGS_CHARS) return `The call's arguments are larger than ${MAX_CALL_ARGS_CHARS} characters of JSON`;
  return null;
}
export type CapabilityCall = z.infer<typeof CapabilityCallSchema>;

/** The host's answer: a JSON result, or an error the guest sees as an exception (message only). */
export const CallAnswerSchema = z.union([
  z.object({ ok: z.literal(true), json: z.string().optional() }),
  z.object({ ok: z.literal(false), name: z.string(), message: z.string() }),
]);
export type CallAnswer = z.infer<typeof CallAnswerSchema>;

/** What a guest may call on the host: the names only; the handlers stay in the embedding process. */
export const CapabilityNamesSchema = z.object({
  bindings: z.array(z.string()),
  mcp: z.record(z.string(), z.array(z.string())),
  fetch: z.boolean(),
});
export type CapabilityNames = z.infer<typeof CapabilityNamesSchema>;

/** Calls one guest may have waiting at once, isolate or container (threat: a call flood filling host memory). */
export const MAX_CALLS_IN_FLIGHT = 64;
/** The separator of an MCP call's `server` and `tool` in CapabilityCall.name. */
export const MCP_NAME_SEPARATOR = "\u0000";
