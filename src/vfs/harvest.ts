// Runs in: the sandbox host process, the worker thread that ran the guest.
// Output files handed back by a guest (or a container's runner), checked before they reach the
// caller: the guest produced this list, so every entry is validated, named safely and capped.
import { outputFilesTooLarge, tooManyOutputFiles, type Outcome } from "../contract/outcomes.ts";
import { MAX_OUTPUT_FILES } from "../contract/limits.ts";
import { mimeTypeFor } from "./mime.ts";
import { outputPath } from "./paths.ts";

export interface HarvestedFile {
  path: string;
  bytes: Uint8Array;
  mimeType: string;
}

/** The checked files, or the output_limit outcome the job ends with. */
export function harvestFiles(raw: unknown, maxBytes: number): { files: HarvestedFile[] } | Outcome {
  if (!Array.isArray(raw)) return { files: [] };
  if (raw.length > MAX_OUTPUT_FILES) return tooManyOutputFiles(raw.length, MAX_OUTPUT_FILES);
  const files: HarvestedFile[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const entry of raw as unknown[]) {
    const { path: rawPath, bytes } = (entry ?? {}) as { path?: unknown; bytes?: unknown };
    const path = outputPath(rawPath);
    if (!path || !(bytes instanceof Uint8Array) || seen.has(path)) continue;
    total += bytes.byteLength;
    if (total > maxBytes) return outputFilesTooLarge(maxBytes);
    seen.add(path);
    files.push({ path, bytes: new Uint8Array(bytes), mimeType: mimeTypeFor(path) });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files };
}
