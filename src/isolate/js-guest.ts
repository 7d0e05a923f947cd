// JsGuest: a JavaScript/TypeScript job as an ES module in a fresh isolate (see guest.ts for the
// shared lifecycle, limits and statuses).
import { randomBytes } from "node:crypto";
import type ivm from "isolated-vm";
import type { WireJob } from "../host/protocol.ts";
import { door, IsolateGuest, MIN_VALUE_CAP, type GuestOutcome } from "./guest.ts";
import { importError } from "./imports.ts";
import { ivmOptions } from "./ivm-options.ts";
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

export class JsGuest extends IsolateGuest {
  protected readonly kind = "javascript";
  readonly #entryName = `__isobox_entry_${randomBytes(12).toString("hex")}`;

  static create(memoryMb: number): JsGuest {
    const guest = new JsGuest(memoryMb);
    guest.init().release();
    return guest;
  }

  protected extraBridge(): unknown[] {
    return [door((op: unknown, a: unknown, b: unknown, c: unknown) => urlOp(op, a, b, c)), this.#entryName];
  }

  protected async execute(job: WireJob): Promise<Omit<GuestOutcome, "usage">> {
    // Compiling and linking run no guest code, so the synchronous forms are safe here and save a
    // round trip to the isolate's thread each (measured: ~0.1 ms apiece).
    const user = this.isolate.compileModuleSync(job.code, ivmOptions({ filename: job.filename }));
    const provided = new Map<string, ivm.Module>();
    user.instantiateSync(this.context, (specifier: string) => {
      const source = specifier === "isobox:host" ? hostModuleSource(this.#entryName, job) : specifier === "isobox:fs" ? fsModuleSource(this.#entryName) : null;
      if (source === null) throw importError(specifier);
      let module = provided.get(specifier);
      if (!module) {
        module = this.isolate.compileModuleSync(source, ivmOptions({ filename: specifier }));
        module.instantiateSync(this.context, (s: string) => { throw importError(s); });
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
    const maxValue = Math.max(MIN_VALUE_CAP, job.limits.maxOutputBytes);
    // Guest code runs synchronously on this thread, in slices bounded by isolated-vm's own timeout
    // (set to what is left of the wall and CPU budgets): a round trip to the isolate's thread pool
    // costs ~1 ms here, more than most jobs. Between slices (awaits, timers) the guest is idle and the
    // JobLimits watchdog runs. The runner starts first and waits for the entry hook, so top-level
    // await is honoured.
    const files = job.files.length ? job.files : undefined;
    const start = [job.inputJson, job.id, JSON.stringify(job.env), maxValue, JSON.stringify(job.capabilities), files, job.limits.maxFsBytes];
    this.start.applySync(undefined, start, ivmOptions({ arguments: { copy: true }, timeout: this.remaining() }));
    entry.evaluateSync(ivmOptions({ timeout: this.remaining() }));
    let envelope: unknown = this.poll.applySync(undefined, [], ivmOptions({ result: { copy: true } }));
    if (envelope === undefined) envelope = await this.wait.apply(undefined, [], ivmOptions({ result: { promise: true, copy: true } }));
    const outcome = this.envelope(envelope, maxValue);
    // V8 rejects import() with a bare "Not supported" when the embedder has no dynamic loader.
    if (outcome.error?.name === "Error" && outcome.error.message === "Not supported" && job.code.includes("import(")) {
      const message = "Dynamic import() is not available in the isobox sandbox (and no module loader exists: Node.js modules never load)";
      const stack = outcome.error.stack?.replace(/^Error: Not supported/, `ImportError: ${message}`);
      outcome.error = { name: "ImportError", message, ...(stack ? { stack } : {}) };
    }
    return outcome;
  }
}
