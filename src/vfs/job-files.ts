// A job's `files`, checked at the door: names normalised under /home/user, text encoded as UTF-8,
// totals held to the job's maxFsBytes (threat: path tricks and oversized inputs, refused before
// anything reaches a guest).
import { jobRelativePath } from "./paths.ts";

/** Files one job may bring, and the entries its virtual filesystem may hold in all. */
export const MAX_JOB_FILES = 10_000;

/** The door builds these mutable, then freezes them with the job (contract/admitted.ts JobFile). */
type JobFile = { path: string; bytes: Uint8Array<ArrayBuffer> };

export function jobFiles(
  files: Record<string, string | Uint8Array> | undefined,
  maxBytes: number,
): { files: JobFile[] } | { error: string } {
  if (!files) return { files: [] };
  const entries = Object.entries(files);
  if (entries.length > MAX_JOB_FILES) return { error: `files: at most ${MAX_JOB_FILES} files per job` };
  const out: JobFile[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const [name, content] of entries) {
    const checked = jobRelativePath(name);
    if ("error" in checked) return { error: `files.${JSON.stringify(name)}: the path ${checked.error}` };
    if (seen.has(checked.path)) return { error: `files.${JSON.stringify(name)}: names the same file as another entry (${checked.path})` };
    seen.add(checked.path);
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : new Uint8Array(content);
    total += bytes.byteLength;
    if (total > maxBytes) return { error: `files: ${total}+ bytes in all, over the job's maxFsBytes of ${maxBytes}` };
    out.push({ path: checked.path, bytes });
  }
  // A file and a folder of the same name cannot both exist.
  for (const p of seen) {
    for (let i = p.indexOf("/"); i > 0; i = p.indexOf("/", i + 1)) {
      if (seen.has(p.slice(0, i))) return { error: `files: ${JSON.stringify(p.slice(0, i))} is both a file and a folder` };
    }
  }
  return { files: out };
}
