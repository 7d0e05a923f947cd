// What a guest gets for an import the sandbox does not provide: a clear error naming the module
// (threat: `import "node:fs"`, `import "child_process"` reaching host modules; nothing is ever loaded).
import { builtinModules } from "node:module";

const NODE_BUILTINS = new Set(builtinModules);

export function importError(specifier: string): Error {
  const bare = specifier.replace(/^node:/, "");
  const isNode = specifier.startsWith("node:") || NODE_BUILTINS.has(bare) || NODE_BUILTINS.has(bare.split("/")[0] ?? "");
  const e = new Error(
    isNode
      ? `Cannot import "${specifier}": Node.js modules do not exist in the isobox sandbox`
      : `Cannot import "${specifier}": the isobox sandbox has no module loader; pass data in through input instead`,
  );
  e.name = "ImportError";
  return e;
}
