// ESLint rule `isobox/no-folder-cycle`: the folders of src/ form layers, so no folder may import,
// through any chain of files, a folder that imports it back. import-x/no-cycle checks runtime cycles
// between files and skips `import type`; this checks the folder graph, counting type imports too
// (they still tie the layers), exactly as shared/tools/folder-graph.py does, and reports each import
// that is an edge of a folder cycle, where the import is written.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

// The same import pattern as folder-graph.py: relative specifiers of import, export … from, import().
const IMPORT = /(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;

const folderOf = (srcRoot, file) => {
  const rel = path.relative(srcRoot, file);
  return rel.includes(path.sep) ? rel.split(path.sep)[0] : ".";
};

// folder -> id of its strongly connected component, for the folders that share one with another.
// Built once per process: `eslint` lints a tree in one run (an editor's long-lived server keeps the
// graph of when it started, until it restarts).
const cycles = new Map();
function folderCycles(srcRoot) {
  if (cycles.has(srcRoot)) return cycles.get(srcRoot);
  const edges = new Map();
  for (const entry of readdirSync(srcRoot, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|js|mts)$/.test(entry.name)) continue;
    const file = path.join(entry.parentPath, entry.name);
    const from = folderOf(srcRoot, file);
    for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const target = path.resolve(entry.parentPath, m[1] ?? m[2]);
      if (path.relative(srcRoot, target).startsWith("..")) continue;
      const to = folderOf(srcRoot, target);
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from).add(to);
    }
  }
  // Tarjan's strongly connected components.
  const index = new Map(),
    low = new Map(),
    stack = [],
    onStack = new Set(),
    component = new Map();
  let next = 0;
  const strong = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const members = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      members.push(w);
    } while (w !== v);
    members.sort();
    if (members.length > 1) for (const m of members) component.set(m, members);
  };
  for (const v of edges.keys()) if (!index.has(v)) strong(v);
  cycles.set(srcRoot, component);
  return component;
}

const rule = {
  meta: {
    type: "problem",
    docs: { description: "forbid imports between folders of src/ that are in one import cycle" },
    schema: [],
    messages: {
      cycle:
        "src/{{from}}/ imports src/{{to}}/, and these folders import each other in a cycle: {{members}}. A folder imports only the layers below it.",
    },
  },
  create(context) {
    const srcRoot = path.join(context.cwd, "src");
    const file = context.filename;
    if (path.relative(srcRoot, file).startsWith("..")) return {};
    const from = folderOf(srcRoot, file);
    const check = (source) => {
      if (source?.type !== "Literal" || typeof source.value !== "string" || !source.value.startsWith(".")) return;
      const target = path.resolve(path.dirname(file), source.value);
      if (path.relative(srcRoot, target).startsWith("..")) return;
      const to = folderOf(srcRoot, target);
      const component = folderCycles(srcRoot);
      if (to === from || !component.has(from) || component.get(from) !== component.get(to)) return;
      context.report({ node: source, messageId: "cycle", data: { from, to, members: component.get(from).join(", ") } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};

export default { meta: { name: "isobox" }, rules: { "no-folder-cycle": rule } };
