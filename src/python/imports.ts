// Runs in: the embedding process. What the isolate's Python can import, for `backend: "auto"`
// routing (the isolate backend's accepts()): a static scan of a Python job's imports decides whether it needs the
// container backend (an import names a module the isolate cannot provide). Static on purpose: the
// decision is made before any guest runs, in the embedding process, without an interpreter.
//
// Hand-rolled (no maintained npm package scans Python imports): a small tokenizer that knows
// comments, string literals (prefixes, triple quotes, escapes), brackets and line continuations, so
// `import` inside a string or comment is not counted and parenthesised `from x import (a,\n b)`
// is one statement. Imports anywhere count (inside functions, try/except, after `;` or `if x:`), as
// do `__import__("m")` and `import_module("m")` with a literal name. A guest that hides an import
// (exec of a built string) is simply routed to the isolate, where the import fails with the message
// naming the container backend: routing is a convenience, not a security boundary.
import { readFileSync } from "node:fs";
import { ISOLATE_BUILTINS, ISOLATE_STDLIB } from "./isolate-modules.ts";

type Token = { kind: "name" | "op" | "str" | "nl"; text: string };

const WHEEL_IMPORTS: ReadonlySet<string> = new Set(
  (
    JSON.parse(readFileSync(new URL("../../wheels/wheels.lock.json", import.meta.url), "utf8")) as { wheels: Array<{ imports: string[] }> }
  ).wheels.flatMap((w) => w.imports),
);

const NAME_START = /[\p{ID_Start}_]/u;
const NAME_PART = /[\p{ID_Continue}]/u;
const STRING_PREFIX = /^(?:[rRbBuUfFtT]{1,2})?$/;

/** Skip a string literal starting at `i` (its opening quote); returns the index after it. */
function skipString(code: string, i: number): number {
  const q = code[i]!;
  const triple = code.startsWith(q.repeat(3), i);
  const close = triple ? q.repeat(3) : q;
  let j = i + close.length;
  while (j < code.length) {
    const c = code[j]!;
    if (c === "\\") j += 2;
    else if (code.startsWith(close, j)) return j + close.length;
    else if (c === "\n" && !triple)
      return j; // unterminated: the parser will reject it anyway
    else j++;
  }
  return j;
}

export function tokenize(code: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  while (i < code.length) {
    const c = code[i]!;
    if (c === "#") {
      const nl = code.indexOf("\n", i);
      i = nl === -1 ? code.length : nl;
    } else if (c === "\\" && (code[i + 1] === "\n" || (code[i + 1] === "\r" && code[i + 2] === "\n"))) {
      i += code[i + 1] === "\n" ? 2 : 3; // explicit line continuation
    } else if (c === "\n") {
      if (depth === 0) tokens.push({ kind: "nl", text: "\n" });
      i++;
    } else if (c === "'" || c === '"') {
      const end = skipString(code, i);
      tokens.push({ kind: "str", text: code.slice(i, end) });
      i = end;
    } else if (NAME_START.test(c)) {
      let j = i + 1;
      while (j < code.length && NAME_PART.test(code[j]!)) j++;
      const word = code.slice(i, j);
      if ((code[j] === "'" || code[j] === '"') && STRING_PREFIX.test(word)) {
        const end = skipString(code, j);
        tokens.push({ kind: "str", text: code.slice(j, end) });
        i = end;
      } else {
        tokens.push({ kind: "name", text: word });
        i = j;
      }
    } else if ("([{".includes(c)) {
      depth++;
      tokens.push({ kind: "op", text: c });
      i++;
    } else if (")]}".includes(c)) {
      depth = Math.max(0, depth - 1);
      tokens.push({ kind: "op", text: c });
      i++;
    } else if (c === ":" && code[i + 1] === "=") {
      tokens.push({ kind: "op", text: ":=" });
      i += 2;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      // `:` and `;` at depth 0 start a new statement (`if x: import y`, `a = 1; import y`).
      tokens.push({ kind: (c === ";" || c === ":") && depth === 0 ? "nl" : "op", text: c });
      i++;
    }
  }
  return tokens;
}

/** A dotted name at tokens[i]: its text and the index after it. */
function dotted(t: Token[], i: number): { name: string; next: number } | undefined {
  if (t[i]?.kind !== "name") return undefined;
  let name = t[i]!.text;
  let j = i + 1;
  while (t[j]?.text === "." && t[j + 1]?.kind === "name") {
    name += "." + t[j + 1]!.text;
    j += 2;
  }
  return { name, next: j };
}

function literal(tok: Token | undefined): string | undefined {
  if (tok?.kind !== "str") return undefined;
  const m = /^[bBuU]?(['"])([\w.]+)\1$/.exec(tok.text);
  return m?.[2];
}

/** Every module name the code imports (dotted, in order of appearance, without duplicates). */
export function importedModules(code: string): string[] {
  const t = tokenize(code);
  const found = new Set<string>();
  for (let i = 0; i < t.length; i++) {
    const atStart = i === 0 || t[i - 1]!.kind === "nl";
    const tok = t[i]!;
    if (tok.kind !== "name") continue;
    if (atStart && tok.text === "import") {
      let j = i + 1;
      for (let d = dotted(t, j); d; d = dotted(t, j)) {
        found.add(d.name);
        j = d.next;
        if (t[j]?.text === "as") j += 2;
        if (t[j]?.text !== ",") break;
        j++;
      }
    } else if (atStart && tok.text === "from") {
      if (t[i + 1]?.text === ".") continue; // relative import: the job's own package
      const d = dotted(t, i + 1);
      if (d && t[d.next]?.text === "import") found.add(d.name);
    } else if ((tok.text === "__import__" || tok.text === "import_module") && t[i + 1]?.text === "(") {
      const name = literal(t[i + 2]);
      if (name) found.add(name);
    }
  }
  return [...found];
}

/** True when the isolate's Python can import this (standard library, its wheels, Pyodide, or a
 * module among the job's own files). */
export function isolateProvides(module: string, localModules: ReadonlySet<string> = new Set()): boolean {
  const top = module.split(".")[0]!;
  return ISOLATE_STDLIB.has(top) || ISOLATE_BUILTINS.has(top) || WHEEL_IMPORTS.has(top) || localModules.has(top);
}

/** Top-level module names the job's files provide (`helpers.py`, `pkg/__init__.py`). */
export function localModulesOf(files: Record<string, unknown> | undefined): Set<string> {
  const names = new Set<string>();
  for (const path of Object.keys(files ?? {})) {
    const m = /^(?:\.\/)?([\p{ID_Start}_][\p{ID_Continue}]*)(?:\.py|\/.+\.py)$/u.exec(path);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** The first imported module the isolate cannot provide, or undefined when the isolate can run it. */
export function moduleNeedingContainer(code: string, files?: Record<string, unknown>): string | undefined {
  const local = localModulesOf(files);
  return importedModules(code).find((m) => !isolateProvides(m, local));
}
