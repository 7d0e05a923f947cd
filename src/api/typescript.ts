// TypeScript → JavaScript with esbuild (a real transpiler: enums, decorators, namespaces, JSX-free TS).
// Runs in the embedding process, in esbuild's own service process; the source map goes with the job
// so guest stack traces are mapped back to the user's lines.
import { stop, transform, type TransformFailure } from "esbuild";
import { wallTimeout, type Outcome } from "../contract/outcomes.ts";
import type { GuestError } from "../contract/result.ts";

export interface Transpiled {
  code: string;
  sourceMap: string;
}

/** Transforms in flight: esbuild's service is stopped for a runaway one only when it is alone. */
let inFlight = 0;

/**
 * Compiling is the job's time: bounded by its wall clock (threat: source built so that esbuild
 * spends tens of seconds on it — 10,000 duplicate declarations on one line, each error carrying the
 * whole line — before any limit of the job applies). A runaway compile answers `timeout` on time;
 * esbuild's service process, where the work runs, is stopped when no other job's compile is in
 * flight (the next transform starts a fresh one), else it finishes the work on its own.
 */
export async function transpileTypeScript(
  source: string,
  filename: string,
  timeoutMs: number,
): Promise<Transpiled | { error: GuestError } | Outcome> {
  inFlight++;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), timeoutMs);
  });
  try {
    const out = await Promise.race([compile(source, filename), expired]);
    if (out !== "expired") return out;
    if (inFlight === 1) await stop();
    return wallTimeout(timeoutMs, "compiling the TypeScript");
  } finally {
    clearTimeout(timer);
    inFlight--;
  }
}

async function compile(source: string, filename: string): Promise<Transpiled | { error: GuestError }> {
  try {
    const out = await transform(source, {
      loader: "ts",
      format: "esm",
      target: "es2024",
      sourcemap: "external",
      sourcefile: filename,
      supported: { "top-level-await": true },
    });
    return { code: out.code, sourceMap: out.map };
  } catch (e) {
    const failure = e as Partial<TransformFailure>;
    const first = failure.errors?.[0];
    if (!first) return { error: { name: "SyntaxError", message: String((e as Error)?.message ?? e) } };
    const where = first.location ? ` (${filename}:${first.location.line}:${first.location.column + 1})` : "";
    return {
      error: {
        name: "SyntaxError",
        message: `${first.text}${where}`,
        stack: `SyntaxError: ${first.text}\n    at ${filename}:${first.location?.line ?? 1}:${(first.location?.column ?? 0) + 1}`,
      },
    };
  }
}
