// Runs in: the embedding process (the door). A job as callers write it: zod first, types inferred
// (STYLE.md). It carries functions (handlers, callbacks, a signal), so it never crosses a process
// boundary itself: the door turns it into an AdmittedJob (admitted.ts) plus a JobIO.
import { z } from "zod";
import { MAX_CODE_BYTES, PartialLimitsSchema } from "./limits.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const LanguageSchema = z.enum(["javascript", "typescript", "python"]);
export type Language = z.infer<typeof LanguageSchema>;

/** The backends a job may ask for; "auto" lets the router choose. */
export const BackendChoiceSchema = z.enum(["auto", "isolate", "container"]);
export type BackendChoice = z.infer<typeof BackendChoiceSchema>;

/** What a binding's handler is told about the call (and may abort on: the job ended). */
export interface BindingContext {
  jobId: string;
  session?: string;
  signal: AbortSignal;
}

export const BindingSchema = z.strictObject({
  description: z.string().optional(),
  input: z.custom<z.ZodType>((v) => v instanceof z.ZodType, { message: "must be a zod schema" }),
  handler: z.custom<(args: unknown, ctx: BindingContext) => unknown>((v) => typeof v === "function", { message: "must be a function" }),
});
export const BindingsSchema = z.record(z.string().regex(/^[A-Za-z_$][\w$]*$/, "binding names are identifiers"), BindingSchema);
export type Bindings = z.infer<typeof BindingsSchema>;

const envKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env names are [A-Za-z_][A-Za-z0-9_]*");
const fn = <T>() => z.custom<T>((v) => typeof v === "function", { message: "must be a function" });

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")!.get!;
/** A real AbortSignal: `instanceof` alone passes Object.create(AbortSignal.prototype), whose use throws later. */
function isAbortSignal(v: unknown): boolean {
  if (!(v instanceof AbortSignal)) return false;
  try {
    abortedGetter.call(v);
    return true;
  } catch {
    return false;
  }
}

export const JobSchema = z.strictObject({
  language: LanguageSchema,
  code: z.string().max(MAX_CODE_BYTES, `code is larger than ${MAX_CODE_BYTES} bytes`),
  input: z.unknown().optional(),
  files: z.record(z.string().min(1), z.union([z.string(), z.instanceof(Uint8Array)])).optional(),
  env: z.record(envKey, z.string()).optional(),
  bindings: BindingsSchema.optional(),
  limits: PartialLimitsSchema.optional(),
  backend: BackendChoiceSchema.optional(),
  session: z.string().min(1).max(256).optional(),
  signal: z.custom<AbortSignal>(isAbortSignal, { message: "must be an AbortSignal" }).optional(),
  onStdout: fn<(line: string) => void>().optional(),
  onStderr: fn<(line: string) => void>().optional(),
});
export type Job = z.input<typeof JobSchema> & { input?: Json };
export type ParsedJob = z.infer<typeof JobSchema>;
