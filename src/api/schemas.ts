// Zod schemas are the single source of truth for every shape that crosses a boundary (STYLE.md):
// options and jobs are validated at the door, TypeScript types are inferred from them.
import { z } from "zod";
import { FetchOptionsSchema } from "../fetch/schemas.ts";
import { McpConnectOptionsSchema, McpServersSchema } from "../mcp/schemas.ts";

const MiB = 1024 * 1024;

export const LimitsSchema = z.strictObject({
  timeoutMs: z.number().int().positive().max(24 * 3600 * 1000),
  cpuTimeMs: z.number().int().positive().max(24 * 3600 * 1000),
  memoryMb: z.number().int().min(8).max(16 * 1024),
  maxOutputBytes: z.number().int().nonnegative().max(1024 * MiB),
  maxFsBytes: z.number().int().nonnegative().max(16 * 1024 * MiB),
  /** Capability calls (bindings, MCP tools, fetch) one job may make. */
  maxBindingCalls: z.number().int().nonnegative().max(1_000_000),
  /** How long one capability call may take before the guest sees a TimeoutError. */
  bindingTimeoutMs: z.number().int().positive().max(24 * 3600 * 1000),
});
export type Limits = z.infer<typeof LimitsSchema>;
export const PartialLimitsSchema = LimitsSchema.partial();

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MEMORY_MB = { javascript: 128, typescript: 128, python: 256 } as const;
export const DEFAULT_MAX_OUTPUT_BYTES = MiB;
export const DEFAULT_MAX_FS_BYTES = 64 * MiB;
export const DEFAULT_MAX_BINDING_CALLS = 1000;
export const DEFAULT_BINDING_TIMEOUT_MS = 30_000;
/** Largest source accepted for one job: parsing is host work, so it is bounded at the door. */
export const MAX_CODE_BYTES = 8 * MiB;
/** Largest JSON input accepted for one job (it is copied into the guest's heap). */
export const MAX_INPUT_BYTES = 32 * MiB;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const BindingSchema = z.strictObject({
  description: z.string().optional(),
  input: z.custom<z.ZodType>((v) => v instanceof z.ZodType, { message: "must be a zod schema" }),
  handler: z.custom<(args: unknown, ctx: { jobId: string; session?: string }) => unknown>(
    (v) => typeof v === "function",
    { message: "must be a function" },
  ),
});
export const BindingsSchema = z.record(z.string().regex(/^[A-Za-z_$][\w$]*$/, "binding names are identifiers"), BindingSchema);
export type Bindings = z.infer<typeof BindingsSchema>;

export const LanguageSchema = z.enum(["javascript", "typescript", "python"]);
export type Language = z.infer<typeof LanguageSchema>;

const envKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env names are [A-Za-z_][A-Za-z0-9_]*");

export const JobSchema = z.strictObject({
  language: LanguageSchema,
  code: z.string().max(MAX_CODE_BYTES, `code is larger than ${MAX_CODE_BYTES} bytes`),
  input: z.unknown().optional(),
  files: z.record(z.string().min(1), z.union([z.string(), z.instanceof(Uint8Array)])).optional(),
  env: z.record(envKey, z.string()).optional(),
  bindings: BindingsSchema.optional(),
  limits: PartialLimitsSchema.optional(),
  backend: z.enum(["auto", "isolate", "container"]).optional(),
  session: z.string().min(1).max(256).optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, { message: "must be an AbortSignal" }).optional(),
  onStdout: z.custom<(line: string) => void>((v) => typeof v === "function", { message: "must be a function" }).optional(),
  onStderr: z.custom<(line: string) => void>((v) => typeof v === "function", { message: "must be a function" }).optional(),
});
export type Job = z.input<typeof JobSchema> & { input?: Json };

export const SandboxOptionsSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(256).optional(),
  warm: z.strictObject({
    javascript: z.number().int().min(0).max(1024).optional(),
    python: z.number().int().min(0).max(64).optional(),
    container: z.number().int().min(0).max(64).optional(),
  }).optional(),
  limits: PartialLimitsSchema.optional(),
  bindings: BindingsSchema.optional(),
  /** Audit hook: hears of every capability call a job makes (name, outcome, duration). */
  onBindingCall: z.custom<(e: { jobId: string; session?: string; name: string; ok: boolean; ms: number }) => void>(
    (v) => typeof v === "function",
    { message: "must be a function" },
  ).optional(),
  /** MCP servers whose tools every job gets as `host.<server>.<tool>`; see src/mcp/. */
  mcp: McpConnectOptionsSchema.extend({ servers: McpServersSchema }).strict().optional(),
  /** The allow-listed fetch capability (off without it); see src/fetch/schemas.ts. */
  fetch: FetchOptionsSchema.optional(),
  sessions: z.strictObject({
    /** Live sessions at once; the least recently used idle one is ended to make room. */
    max: z.number().int().min(1).max(1024).optional(),
    idleTimeoutMs: z.number().int().positive().max(7 * 24 * 3600 * 1000).optional(),
    maxAgeMs: z.number().int().positive().max(30 * 24 * 3600 * 1000).optional(),
  }).optional(),
  container: z.strictObject({
    enabled: z.boolean(),
    image: z.string().optional(),
    runtime: z.enum(["runsc", "runc"]).optional(),
    socketPath: z.string().optional(),
  }).optional(),
});
export type SandboxOptions = z.input<typeof SandboxOptionsSchema>;

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

export const OutputFileSchema = z.object({ path: z.string(), bytes: z.custom<Uint8Array>((v) => v instanceof Uint8Array), mimeType: z.string() });

export const RunResultSchema = z.object({
  status: StatusSchema,
  value: z.unknown().optional(),
  stdout: z.string(),
  stderr: z.string(),
  error: GuestErrorSchema.optional(),
  files: z.array(OutputFileSchema),
  backend: z.enum(["isolate", "container"]),
  usage: UsageSchema,
});
export interface RunResult {
  status: Status;
  value?: Json;
  stdout: string;
  stderr: string;
  error?: GuestError;
  files: Array<{ path: string; bytes: Uint8Array; mimeType: string }>;
  backend: "isolate" | "container";
  usage: Usage;
}
