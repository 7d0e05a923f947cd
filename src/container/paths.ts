// Relative paths under /home/user, as the caller sees them: job file names going in, output file
// names coming out. One normaliser for both directions (threat: `../` or absolute names escaping the
// job's home on the way in, and forged names reaching a caller that writes them to its own disk).
const MAX_PATH = 1024;
const MAX_SEGMENT = 255;

/** `a/./b//c` → `a/b/c`; undefined for anything absolute, with `..`, empty, or too long. */
export function normaliseRelativePath(raw: string): string | undefined {
  // Control characters (NUL, newlines, escapes) have no business in a file name a caller displays.
  const cleaned = raw.normalize("NFC").replace(/[\u0000-\u001f\u007f]/g, "_");
  if (cleaned.startsWith("/") || cleaned.includes("\\")) return undefined;
  const parts = cleaned.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.some((p) => p === ".." || p.length > MAX_SEGMENT)) return undefined;
  const path = parts.join("/");
  return path.length > MAX_PATH ? undefined : path;
}

/** An output name as the runner reported it: must lie under output/. */
export function normaliseOutputPath(raw: string): string | undefined {
  const path = normaliseRelativePath(raw);
  return path && path.startsWith("output/") ? path : undefined;
}
