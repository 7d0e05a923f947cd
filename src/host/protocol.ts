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
});
export type HostInit = z.infer<typeof HostInitSchema>;

/** embedding process → sandbox host process */
export type ToHost =
  | { t: "run"; job: WireJob }
  | { t: "abort"; id: string };

/** sandbox host process → embedding process; validated on receipt (the host process runs guests). */
export const FromHostSchema = z.discriminatedUnion("t", [
  z.object({ t: z.literal("ready"), pid: z.number() }),
  z.object({ t: z.literal("recycle") }),
  z.object({ t: z.literal("out"), id: z.string(), fd: z.union([z.literal(1), z.literal(2)]), lines: z.array(z.string()) }),
  z.object({ t: z.literal("result"), id: z.string(), result: RunResultSchema }),
]);
export type FromHost = z.infer<typeof FromHostSchema>;

/** sandbox host main thread ⇄ pool worker, over the job's MessagePort */
export type ToWorker = { t: "abort" };
/**
 * A Python guest's interrupt buffer (Int32 slots), shared by the guest's worker and the host thread
 * that sets it at the deadline: [SIGNAL] is Pyodide's (2 = SIGINT), [SENT] marks "the host sent it".
 */
export const INTERRUPT_SIGNAL = 0;
export const INTERRUPT_SENT = 1;
export const SIGINT = 2;
/** `interrupt`: see INTERRUPT_SIGNAL/INTERRUPT_SENT. */
export type FromWorker = { t: "started"; interrupt?: SharedArrayBuffer } | { t: "out"; fd: 1 | 2; lines: string[] } | { t: "result"; result: RunResult };
