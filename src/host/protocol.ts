// Runs in: the embedding process and the sandbox host process. Messages between the two (the
// IsolateBackend's SandboxHost supervisor and src/host/child.ts).
// Hand-rolled rather than comlink: comlink's callback proxies travel as MessagePorts, which Node's
// child_process IPC cannot carry, and per-job routing of streamed lines plus "answer every in-flight
// job with crashed when the process dies" needs the job id on every message anyway.
import { z } from "zod";
import { WireJobSchema, type WireJob } from "../contract/admitted.ts";
import { CallAnswerSchema, CapabilityCallSchema, type CallAnswer } from "../contract/calls.ts";
import { RunResultSchema } from "../contract/result.ts";

/** embedding process → sandbox host process; validated on receipt by the host process. */
export const ToHostSchema = z.discriminatedUnion("t", [
  z.object({ t: z.literal("run"), job: WireJobSchema }),
  z.object({ t: z.literal("abort"), id: z.string() }),
  z.object({ t: z.literal("answer"), id: z.string(), callId: z.number().int().nonnegative(), answer: CallAnswerSchema }),
  z.object({ t: z.literal("endSession"), session: z.string() }),
]);
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
