// Runs in: the sandbox host process, the worker thread that runs the guest.
// JsGuest: a JavaScript/TypeScript job as an ES module in a fresh isolate (see guest.ts for the
// shared lifecycle, limits and statuses).
import { randomBytes } from "node:crypto";
import type ivm from "isolated-vm";
import type { WireJob } from "../contract/admitted.ts";
import { runSpec } from "../contract/run-spec.ts";
import { door, IsolateGuest, type GuestOutcome } from "./guest.ts";
import { importError } from "./imports.ts";
import { ivmOptions } from "./ivm-options.ts";
import type { KindDoors } from "./prelude.ts";
import { keeperModuleSource, withSessionKeeper, type KeeperNames } from "./session-keep.ts";
import { urlOp } from "./url-op.ts";

export type { GuestOutcome } from "./guest.ts";

/** Names isobox:fs exports (the promise API of runtimes/isolate/vfs.js). */
const FS_EXPORTS = ["readFile", "writeFile", "appendFile", "mkdir", "readdir", "stat", "access", "rm", "unlink", "rename"];

/**
 * `isobox:host`: one export per binding and per MCP server, read from the namespace the runner
 * put on the per-guest entry hook. Export names are string literals, so a binding called `class` or
 * `default` still exports (no name is ever spliced into code unquoted).
 */
function hostModuleSource(entryName: string, job: WireJob): string {
  const names = [...job.capabilities.bindings, ...Object.keys(job.capabilities.mcp)];
  const lines = [`const h = globalThis[${JSON.stringify(entryName)}].host;`];
  names.forEach((name, i) => lines.push(`const e${i} = h[${JSON.stringify(name)}];`, `export { e${i} as ${JSON.stringify(name)} };`));
  if (!names.includes("default")) lines.push("export default h;");
  return lines.join("\n");
}

function fsModuleSource(entryName: string): string {
  const lines = [`const f = globalThis[${JSON.stringify(entryName)}].fs;`, "export default f;"];
  for (const name of FS_EXPORTS) lines.push(`export const ${name} = f.${name};`);
  lines.push("export const promises = f;");
  return lines.join("\n");
}

function keeperNames(): KeeperNames {
  const tag = randomBytes(8).toString("hex");
  return {
    exportName: `__isobox_keep_${tag}`,
    moduleSpecifier: `isobox:session-keep-${tag}`,
    selfSpecifier: `isobox:session-self-${tag}`,
    globalName: `__isobox_keep_${tag}`,
  };
}

/** Longest the session keeper may run (it only assigns globals; a guest's setters could stall it). */
const KEEP_TIMEOUT_MS = 250;

export class JsGuest extends IsolateGuest<"javascript"> {
  protected readonly kind = "javascript";
  readonly #entryName = `__isobox_entry_${randomBytes(12).toString("hex")}`;

  static create(memoryMb: number): JsGuest {
    const guest = new JsGuest(memoryMb);
    guest.init().release();
    return guest;
  }

  protected kindDoors(): KindDoors<"javascript"> {
    return { urlOp: door((op: unknown, a: unknown, b: unknown, c: unknown) => urlOp(op, a, b, c)), entryName: this.#entryName };
  }

  /**
   * Copy the run's top-level bindings to the session's global object. Guest code can run here (a
   * setter the guest put on globalThis), so it is bounded like any slice; if it fails, the run's
   * result stands and only what was copied before the failure is kept.
   */
  #keep(globalName: string): void {
    if (this.isolate.isDisposed) return;
    // One bounded slice does it all, reading the global included: the guest can see the keeper's
    // global during its run and put a getter there (a Reference's getSync has no timeout).
    const name = JSON.stringify(globalName);
    const source = `(() => { const keep = globalThis[${name}]; delete globalThis[${name}]; if (typeof keep === "function") keep(); })()`;
    try {
      this.context.evalSync(
        source,
        ivmOptions({ timeout: Math.min(KEEP_TIMEOUT_MS, this.remaining()), filename: "isobox:prelude-session" }),
      );
    } catch {
      // a timed-out or disposed guest: its run already has its status
    }
  }

  protected async execute(job: WireJob): Promise<Omit<GuestOutcome, "usage">> {
    // A session's run keeps its top-level variables for the next run (src/isolate/session-keep.ts).
    const keeper = job.session !== undefined ? keeperNames() : undefined;
    const code = keeper ? withSessionKeeper(job.code, keeper) : job.code;
    const kept = keeper && code !== job.code ? keeper : undefined;
    const entry = this.#link(job, code, kept);
    // Guest code runs synchronously on this thread, in slices bounded by isolated-vm's own timeout
    // (set to what is left of the wall and CPU budgets): a round trip to the isolate's thread pool
    // costs ~1 ms here, more than most jobs. Between slices (awaits, timers) the guest is idle and the
    // JobLimits watchdog runs. The runner starts first and waits for the entry hook, so top-level
    // await is honoured.
    const spec = runSpec(job, { withCode: false });
    this.start.applySync(undefined, [spec], ivmOptions({ arguments: { copy: true }, timeout: this.remaining() }));
    let envelope: unknown;
    try {
      entry.evaluateSync(ivmOptions({ timeout: this.remaining() }));
      envelope = this.poll.applySync(undefined, [], ivmOptions({ result: { copy: true } }));
      if (envelope === undefined) envelope = await this.wait.apply(undefined, [], ivmOptions({ result: { promise: true, copy: true } }));
    } finally {
      // Also when the module threw: what it declared before the throw stays, as in Python.
      if (kept) this.#keep(kept.globalName);
    }
    return withDynamicImportHint(this.envelope(envelope, spec.maxValueBytes), job.code);
  }

  /**
   * The job's module linked with what it may import (isobox:host, isobox:fs, the session keeper),
   * under an entry module that hands its namespace to the runner. Compiling and linking run no
   * guest code, so the synchronous forms are safe here and save a round trip to the isolate's
   * thread each (measured: ~0.1 ms apiece).
   */
  #link(job: WireJob, code: string, keeper: KeeperNames | undefined): ivm.Module {
    const user = this.isolate.compileModuleSync(code, ivmOptions({ filename: job.filename }));
    const provided = new Map<string, ivm.Module>();
    user.instantiateSync(this.context, (specifier: string) => {
      if (keeper?.selfSpecifier === specifier) return user;
      if (keeper?.moduleSpecifier === specifier) {
        // Linked in the same instantiation as the job's module (the resolver serves the cycle).
        return this.isolate.compileModuleSync(keeperModuleSource(keeper), ivmOptions({ filename: "isobox:prelude-session" }));
      }
      let module = provided.get(specifier);
      if (!module) {
        module = this.#providedModule(specifier, job);
        provided.set(specifier, module);
      }
      return module;
    });
    const entrySource = `import * as ns from "isobox:user";\nglobalThis[${JSON.stringify(this.#entryName)}](ns);\n`;
    const entry = this.isolate.compileModuleSync(entrySource, ivmOptions({ filename: "isobox:entry" }));
    entry.instantiateSync(this.context, (specifier: string) => {
      if (specifier === "isobox:user") return user;
      throw importError(specifier);
    });
    return entry;
  }

  /** isobox:host or isobox:fs, compiled and linked; any other specifier is an ImportError. */
  #providedModule(specifier: string, job: WireJob): ivm.Module {
    const source =
      specifier === "isobox:host"
        ? hostModuleSource(this.#entryName, job)
        : specifier === "isobox:fs"
          ? fsModuleSource(this.#entryName)
          : null;
    if (source === null) throw importError(specifier);
    const module = this.isolate.compileModuleSync(source, ivmOptions({ filename: specifier }));
    module.instantiateSync(this.context, (s: string) => {
      throw importError(s);
    });
    return module;
  }
}

/** V8 rejects import() with a bare "Not supported" when the embedder has no dynamic loader: say why. */
function withDynamicImportHint(outcome: Omit<GuestOutcome, "usage">, code: string): Omit<GuestOutcome, "usage"> {
  if (outcome.error?.name === "Error" && outcome.error.message === "Not supported" && code.includes("import(")) {
    const message = "Dynamic import() is not available in the isobox sandbox (and no module loader exists: Node.js modules never load)";
    const stack = outcome.error.stack?.replace(/^Error: Not supported/, `ImportError: ${message}`);
    outcome.error = { name: "ImportError", message, ...(stack ? { stack } : {}) };
  }
  return outcome;
}
