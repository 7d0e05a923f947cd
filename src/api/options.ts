// Runs in: the embedding process. The options of createSandbox, validated once at the door. They
// carry functions (binding handlers, the audit hook), so they never cross a process boundary.
import { z } from "zod";
import { BindingsSchema } from "../contract/job.ts";
import { PartialLimitsSchema } from "../contract/limits.ts";
import type { BindingCallEvent } from "../bindings/dispatcher.ts";
import { FetchOptionsSchema } from "../fetch/schemas.ts";
import { McpConnectOptionsSchema, McpServersSchema } from "../mcp/schemas.ts";

export const SandboxOptionsSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(256).optional(),
  warm: z
    .strictObject({
      javascript: z.number().int().min(0).max(1024).optional(),
      python: z.number().int().min(0).max(64).optional(),
      container: z.number().int().min(0).max(64).optional(),
    })
    .optional(),
  limits: PartialLimitsSchema.optional(),
  bindings: BindingsSchema.optional(),
  /** Audit hook: hears of every capability call a job makes (name, outcome, duration). */
  onBindingCall: z.custom<(e: BindingCallEvent) => void>((v) => typeof v === "function", { message: "must be a function" }).optional(),
  /** MCP servers whose tools every job gets as `host.<server>.<tool>`; see src/mcp/. */
  mcp: McpConnectOptionsSchema.extend({ servers: McpServersSchema }).strict().optional(),
  /** The allow-listed fetch capability (off without it); see src/fetch/schemas.ts. */
  fetch: FetchOptionsSchema.optional(),
  sessions: z
    .strictObject({
      /** Live sessions at once; the least recently used idle one is ended to make room. */
      max: z.number().int().min(1).max(1024).optional(),
      idleTimeoutMs: z
        .number()
        .int()
        .positive()
        .max(7 * 24 * 3600 * 1000)
        .optional(),
      // At most what one setTimeout can wait (~24.8 days): a longer one fires at once.
      maxAgeMs: z
        .number()
        .int()
        .positive()
        .max(2 ** 31 - 1)
        .optional(),
    })
    .optional(),
  container: z
    .strictObject({
      enabled: z.boolean(),
      image: z.string().optional(),
      runtime: z.enum(["runsc", "runc"]).optional(),
      socketPath: z.string().optional(),
    })
    .optional(),
});
export type SandboxOptions = z.input<typeof SandboxOptionsSchema>;
export type ParsedSandboxOptions = z.infer<typeof SandboxOptionsSchema>;
