// Runs in: every process. The RunResult shape (zod first, the type inferred) and the one result
// builder: every RunResult, from any layer and either backend, is made by buildResult.
import { z } from "zod";
import type { Json } from "./job.ts";

export const StatusSchema = z.enum(["ok", "error", "timeout", "memory", "output_limit", "killed", "crashed", "rejected"]);
export type Status = z.infer<typeof StatusSchema>;

export const GuestErrorSchema = z.object({ name: z.string(), message: z.string(), stack: z.string().optional() });
export type GuestError = z.infer<typeof GuestErrorSchema>;

export const UsageSchema = z.object({
  wallMs: z.number().nonnegative(),
  cpuMs: z.number().nonnegative(),
  memoryPeakBytes: z.number().nonnegative().optional(),
});
export type Usage = z.infer<typeof UsageSchema>;

/** The names a backend may carry; RunResult.backend is the name of the backend that ran the job. */
export const BackendNameSchema = z.enum(["isolate", "container"]);
export type BackendName = z.infer<typeof BackendNameSchema>;

export const OutputFileSchema = z.object({
  path: z.string(),
  bytes: z.custom<Uint8Array>((v) => v instanceof Uint8Array),
  mimeType: z.string(),
});
export type OutputFile = z.infer<typeof OutputFileSchema>;

export const RunResultSchema = z.object({
  status: StatusSchema,
  // Not walked here: the guest's value was bounded and made JSON by the runner that produced it.
  value: z.custom<Json>(() => true).optional(),
  stdout: z.string(),
  stderr: z.string(),
  error: GuestErrorSchema.optional(),
  files: z.array(OutputFileSchema),
  backend: BackendNameSchema,
  usage: UsageSchema,
});
export type RunResult = z.infer<typeof RunResultSchema>;

export interface ResultParts {
  status: Status;
  value?: Json;
  error?: GuestError;
  stdout?: string;
  stderr?: string;
  files?: OutputFile[];
  backend?: BackendName;
  usage?: Partial<Usage>;
}

export function buildResult(p: ResultParts): RunResult {
  const r: RunResult = {
    status: p.status,
    stdout: p.stdout ?? "",
    stderr: p.stderr ?? "",
    files: p.files ?? [],
    backend: p.backend ?? "isolate",
    usage: { wallMs: round(p.usage?.wallMs ?? 0), cpuMs: round(p.usage?.cpuMs ?? 0) },
  };
  if (p.usage?.memoryPeakBytes !== undefined) r.usage.memoryPeakBytes = p.usage.memoryPeakBytes;
  if (p.value !== undefined) r.value = p.value;
  if (p.error) r.error = p.error;
  return r;
}

/** A result for a job that never reached a guest (or lost it): no output, a named error. */
export function statusResult(outcome: { status: Status; error: GuestError }, usage?: Partial<Usage>): RunResult {
  return buildResult({ status: outcome.status, error: outcome.error, usage });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
