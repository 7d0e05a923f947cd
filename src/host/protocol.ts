// Messages between the embedding process (SandboxHost supervisor) and the sandbox host process.
// Hand-rolled rather than comlink: comlink's callback proxies travel as MessagePorts, which Node's
// child_process IPC cannot carry, and per-job routing of streamed lines plus "answer every in-flight
// job with crashed when the process dies" needs the job id on every message anyway.
import { z } from "zod";
import { LimitsSchema, RunResultSchema, type RunResult } from "../api/schemas.ts";

/** A job as the sandbox host process receives it: validated, defaults applied, TS already stripped. */
export const WireJobSchema = z.object({
  id: z.string(),
  language: z.enum(["javascript", "typescript", "python"]),
  code: z.string(),
  filename: z.string(),
  sourceMap: z.string().optional(),
  inputJson: z.string().optional(),
  env: z.record(z.string(), z.string()),
  limits: LimitsSchema,
  stream: z.object({ stdout: z.boolean(), stderr: z.boolean() }),
  /** The job's files, already normalised to paths under /home/user (see src/vfs/paths.ts). */
  files: z.array(z.object({ path: z.string(), bytes: z.instanceof(Uint8Array) })),
  /** What the guest may call on the host: the names only; the handlers stay in the embedding process. */
  capabilities: z.object({
    bindings: z.array(z.string()),
    mcp: z.record(z.string(), z.array(z.string())),
    fetch: z.boolean(),
  }),
  /** Set when the guest persists between runs (see src/pool/sessions.ts). */
  session: z.string().optional(),
});
export type WireJob = z.infer<typeof WireJobSchema>;

export const HostInitSchema = z.object({
  threads: z.number().int().min(1),
  warmJavascript: z.number().int().min(0),
  warmPython: z.number().int().min(0),
  /** A Pyodide memory snapshot file to restore from, if one exists (see src/python/snapshot.ts). */
  pythonSnapshot: z.string().optional(),
  defaultMemoryMb: z.number().int().min(8),
  defaultPythonMemoryMb: z.number().int().min(8),
  sessions: z.object({ maxSessions: z.number().int().min(1), idleTimeoutMs: z.number().int().positive(), maxAgeMs: z.number().int().positive() }),
});
export type HostInit = z.infer<typeof HostInitSchema>;

/**
 * A guest's call of a host capability. `kind` says which table `name` is looked up in: a binding,
 * an MCP tool (`server\u0000tool`, so no tool name can spell another server's) or the fetch capability.
 */
export const CapabilityCallSchema = z.object({
  callId: z.number().int().nonnegative(),
  kind: z.enum(["binding", "mcp", "fetch"]),
  name: z.string().max(1024),
  argsJson: z.string().max(9 * 1024 * 1024),
});
export type CapabilityCall = z.infer<typeof CapabilityCallSchema>;
/** The host's answer: a JSON result, or an error the guest sees as an exception (message only). */
export const CallAnswerSchema = z.union([
  z.object({ ok: z.literal(true), json: z.string().optional() }),
  z.object({ ok: z.literal(false), name: z.string(), message: z.string() }),
]);
export type CallAnswer = z.infer<typeof CallAnswerSchema>;
/** Calls one guest may have waiting at once, isolate or container (threat: a call flood filling host memory). */
export const MAX_CALLS_IN_FLIGHT = 64;
/** The separator of an MCP call's `server` and `tool` in CapabilityCall.name. */
export const MCP_NAME_SEPARATOR = "\u0000";

/** embedding process → sandbox host process */
export type ToHost =
  | { t: "run"; job: WireJob }
  | { t: "abort"; id: string }
  | { t: "answer"; id: string; callId: number; answer: CallAnswer }
  | { t: "endSession"; session: string };

/** sandbox host process → embedding process; validated on receipt (the host process runs guests). */
export const FromHostSchema = z.discriminatedUnion("t", [
  z.object({ t: z.literal("ready"), pid: z.number() }),
  z.object({ t: z.literal("recycle") }),
  z.object({ t: z.literal("out"), id: z.string(), fd: z.union([z.literal(1), z.literal(2)]), lines: z.array(z.string()) }),
  z.object({ t: z.literal("result"), id: z.string(), result: RunResultSchema }),
  z.object({ t: z.literal("call"), id: z.string(), call: CapabilityCallSchema }),
]);
export type FromHost = z.infer<typeof FromHostSchema>;

/** sandbox host main thread ⇄ pool worker, over the job's MessagePort */
export type ToWorker = { t: "abort" } | { t: "answer"; callId: number; answer: CallAnswer };
/**
 * Int32 slot of a job's call-wakeup buffer: bumped by the host thread after every message it posts
 * to the job's worker, so a guest blocked in a synchronous call (Python) wakes to read its port.
 */
export const WAKE_SEQ = 0;
/**
 * A Python guest's interrupt buffer (Int32 slots), shared by the guest's worker and the host thread
 * that sets it at the deadline: [SIGNAL] is Pyodide's (2 = SIGINT), [SENT] marks "the host sent it".
 */
export const INTERRUPT_SIGNAL = 0;
export const INTERRUPT_SENT = 1;
export const SIGINT = 2;
/** `interrupt`: see INTERRUPT_SIGNAL/INTERRUPT_SENT. */
export type FromWorker =
  | { t: "started"; interrupt?: SharedArrayBuffer; wake: SharedArrayBuffer }
  | { t: "out"; fd: 1 | 2; lines: string[] }
  | { t: "call"; call: CapabilityCall }
  | { t: "result"; result: RunResult };
