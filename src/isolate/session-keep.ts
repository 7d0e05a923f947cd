// Sessions keep a JavaScript job's top-level variables, as they keep a Python job's globals: a
// module's `let x`, `const {a, b}`, `function f` and `class K` are module-scoped, so without help the
// next run of the session would not see them. A session run's code gets one more export, a hoisted
// function that copies each top-level binding to the global object (where the next run's code finds
// it by name). The host calls it after the run, whether the module finished or threw, and a binding
// still in its temporal dead zone is skipped. acorn parses (a maintained ES parser); only names are
// taken, and the job's own code is not rewritten, only appended to.
import { parse, type Node, type Pattern } from "acorn";

/** Names bound at the top level of `code` (imports excluded: each run imports for itself). */
export function topLevelNames(code: string): string[] | null {
  let program: ReturnType<typeof parse>;
  try {
    program = parse(code, { ecmaVersion: "latest", sourceType: "module", allowHashBang: true });
  } catch {
    return null; // the compile reports the syntax error itself
  }
  const names = new Set<string>();
  const add = (p: Pattern | null | undefined): void => {
    if (!p) return;
    switch (p.type) {
      case "Identifier":
        names.add(p.name);
        break;
      case "ObjectPattern":
        for (const prop of p.properties) add(prop.type === "RestElement" ? prop.argument : prop.value);
        break;
      case "ArrayPattern":
        for (const el of p.elements) add(el);
        break;
      case "RestElement":
        add(p.argument);
        break;
      case "AssignmentPattern":
        add(p.left);
        break;
      default:
        break; // member expressions cannot be declared
    }
  };
  const declared = (node: Node | null | undefined): void => {
    if (!node) return;
    if (node.type === "VariableDeclaration") {
      const decl = node as Node & { kind: string; declarations: Array<{ id: Pattern }> };
      if (decl.kind === "using" || decl.kind === "await using") return; // disposed at the module's end
      for (const d of decl.declarations) add(d.id);
    } else if (node.type === "FunctionDeclaration" || node.type === "ClassDeclaration") {
      const id = (node as Node & { id: { name: string } | null }).id;
      if (id) names.add(id.name);
    }
  };
  for (const statement of program.body) {
    if (statement.type === "ExportNamedDeclaration" || statement.type === "ExportDefaultDeclaration")
      declared(statement.declaration as Node | null);
    else declared(statement);
  }
  return [...names];
}

/** The names one session run's keeper uses (random per run: a guest cannot name them in advance). */
export interface KeeperNames {
  /** The keeper function, exported by the job's module. */
  exportName: string;
  /** The small module that hands the keeper over before the job's own code runs. */
  moduleSpecifier: string;
  /** What that module imports the job's module as (a cycle: the job's module imports it). */
  selfSpecifier: string;
  /** The global the keeper is left under for the host to call. */
  globalName: string;
}

/**
 * `code` plus the exported keeper, or `code` unchanged when it does not parse or binds nothing. The
 * keeper's writes go through try/catch: a name in its dead zone, or a global the guest made
 * read-only, is skipped without stopping the others. The appended `import` makes the job's module
 * depend on the keeper module, which imports the keeper back (a cycle): so the keeper module runs
 * first and hands over the keeper even when the job's own code then throws. An exported function
 * declaration exists from instantiation on, before any of the job's code has run.
 */
export function withSessionKeeper(code: string, names: KeeperNames): string {
  const bound = topLevelNames(code);
  if (!bound?.length) return code;
  const copies = bound.map((n) => `try { globalThis[${JSON.stringify(n)}] = ${n}; } catch {}`).join(" ");
  // Appended after the job's last line: no line or column of the job's own code moves.
  return `${code}\n;import ${JSON.stringify(names.moduleSpecifier)};\nexport function ${names.exportName}() { ${copies} }\n`;
}

/** The keeper module's source: leaves the keeper under its global for the host. */
export function keeperModuleSource(names: KeeperNames): string {
  return `import { ${names.exportName} as keep } from ${JSON.stringify(names.selfSpecifier)};\ntry { globalThis[${JSON.stringify(names.globalName)}] = keep; } catch {}\n`;
}
