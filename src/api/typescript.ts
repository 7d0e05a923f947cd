// TypeScript → JavaScript with esbuild (a real transpiler: enums, decorators, namespaces, JSX-free TS).
// Runs in the embedding process, in esbuild's own service process; the source map goes with the job
// so guest stack traces are mapped back to the user's lines.
import { transform, type TransformFailure } from "esbuild";
import type { GuestError } from "../contract/result.ts";

export interface Transpiled {
  code: string;
  sourceMap: string;
}

export async function transpileTypeScript(source: string, filename: string): Promise<Transpiled | { error: GuestError }> {
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
