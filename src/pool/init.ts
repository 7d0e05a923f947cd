// Runs in: the embedding process (which writes it) and the sandbox host process (which checks it).
// How the sandbox host process sizes its pool of worker threads and warm guests.
import { z } from "zod";

export const HostInitSchema = z.object({
  threads: z.number().int().min(1),
  warmJavascript: z.number().int().min(0),
  warmPython: z.number().int().min(0),
  /** A Pyodide memory snapshot file to restore from, if one exists (see src/python/snapshot-file.ts). */
  pythonSnapshot: z.string().optional(),
  defaultMemoryMb: z.number().int().min(8),
  defaultPythonMemoryMb: z.number().int().min(8),
});
export type HostInit = z.infer<typeof HostInitSchema>;
