// Runs in: every process. Zod issues → one message that names the field, for `rejected` results,
// option errors and refused capability calls: one spelling everywhere.
import type { z } from "zod";

export function describeIssue(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join(".") : "(job)"}: ${i.message}`)
    .join("; ");
}
