// Runs in: every process (it is the job as it crosses the process boundary to the sandbox host).
// An AdmittedJob is a job the door has validated and defaulted once: TypeScript already compiled,
// input already JSON, files normalised under /home/user, limits resolved, capabilities reduced to
// names. It is frozen: no layer behind the door re-validates or changes it (fastify's "validate once,
// then freeze"). The functions a caller gave (callbacks, handlers, signal) travel beside it, as JobIO.
import { z } from "zod";
import { CapabilityNamesSchema } from "./calls.ts";
import { BackendChoiceSchema, LanguageSchema } from "./job.ts";
import { LimitsSchema } from "./limits.ts";

/** One of the job's files: a path relative to /home/user, already checked (see src/vfs/paths.ts). */
export const JobFileSchema = z.object({ path: z.string(), bytes: z.instanceof(Uint8Array) });
export type JobFile = { readonly path: string; readonly bytes: Uint8Array<ArrayBuffer> };

export const AdmittedJobSchema = z.object({
  id: z.string(),
  language: LanguageSchema,
  /** The code a guest runs: for TypeScript, the compiled JavaScript. */
  code: z.string(),
  /** What stack traces call the job's source (main.js, main.ts, main.py). */
  filename: z.string(),
  sourceMap: z.string().optional(),
  inputJson: z.string().optional(),
  files: z.array(JobFileSchema),
  env: z.record(z.string(), z.string()),
  limits: LimitsSchema,
  capabilities: CapabilityNamesSchema,
  /** Set when the guest persists between runs; the session registry owns the id's lifetime. */
  session: z.string().optional(),
  /** The backend the caller asked for ("auto" lets the router choose). */
  backend: BackendChoiceSchema,
});
export type AdmittedJob = Readonly<Omit<z.infer<typeof AdmittedJobSchema>, "files">> & { readonly files: readonly JobFile[] };

/** Freezes a job the door built (typed arrays cannot be frozen: their entries are). */
export function freezeJob(job: z.infer<typeof AdmittedJobSchema> | AdmittedJob): AdmittedJob {
  for (const f of job.files) Object.freeze(f);
  Object.freeze(job.files);
  Object.freeze(job.env);
  Object.freeze(job.limits);
  Object.freeze(job.capabilities.bindings);
  for (const tools of Object.values(job.capabilities.mcp)) Object.freeze(tools);
  Object.freeze(job.capabilities.mcp);
  Object.freeze(job.capabilities);
  return Object.freeze(job) as AdmittedJob;
}

/** An admitted job as it travels to the isolate backend's host process: with the streams read. */
export const WireJobSchema = AdmittedJobSchema.extend({
  stream: z.object({ stdout: z.boolean(), stderr: z.boolean() }),
});
export type WireJob = z.infer<typeof WireJobSchema>;
