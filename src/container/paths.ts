// Path checks of the container backend: the same rules as the isolate's (src/vfs/paths.ts, the one
// implementation), in the shape the backend uses (undefined when a name cannot be used).
import { jobRelativePath, outputPath } from "../vfs/paths.ts";

/** `a/./b//c` → `a/b/c`; undefined for anything absolute, with `..`, empty, too long or with control characters. */
export function normaliseRelativePath(raw: string): string | undefined {
  const checked = jobRelativePath(raw);
  return "path" in checked ? checked.path : undefined;
}

/** An output name as the runner reported it: under output/, control characters made `_`. */
export function normaliseOutputPath(raw: string): string | undefined {
  return outputPath(raw) ?? undefined;
}
