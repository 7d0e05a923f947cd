// Paths of a job's virtual filesystem as the host sees them: the job's `files` going in, the output
// files coming back. Both are relative to /home/user (the guest's cwd) and checked here, once, for
// every backend (threat: `../` names, absolute paths, NUL bytes and control characters used to step
// outside the job's folder or to forge names in the caller's UI or disk).
const MAX_PATH = 1024;
const MAX_SEGMENT = 255;

export type PathCheck = { path: string } | { error: string };

/** Normalise one path relative to /home/user; refuse anything that would leave it. */
export function jobRelativePath(raw: string): PathCheck {
  if (raw.length === 0) return { error: "is empty" };
  if (raw.length > MAX_PATH) return { error: `is longer than ${MAX_PATH} characters` };
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { error: "contains a control character" };
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw) || raw.includes("\\"))
    return { error: "must be relative to /home/user (no leading /, no drive letters or backslashes)" };
  const out: string[] = [];
  for (const segment of raw.normalize("NFC").split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") return { error: "must not contain .." };
    if (segment.length > MAX_SEGMENT) return { error: `has a name longer than ${MAX_SEGMENT} characters` };
    out.push(segment);
  }
  if (out.length === 0) return { error: "names no file" };
  return { path: out.join("/") };
}

/**
 * An output file's name as reported: `output/…`, normalised (control characters become `_`: they
 * have no business in a name a caller displays or writes to disk), or null when it cannot be one.
 */
export function outputPath(raw: unknown): string | null {
  if (typeof raw !== "string" || !raw.startsWith("output/")) return null;
  const checked = jobRelativePath(raw.replace(/[\u0000-\u001f\u007f]/g, "_"));
  return "path" in checked && checked.path.startsWith("output/") ? checked.path : null;
}
