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
    user.instantiateSync(this.context, (specifier: string) => { throw importError(specifier); });
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
    this.start.applySync(undefined, [job.inputJson, job.id, JSON.stringify(job.env), maxValue], ivmOptions({ arguments: { copy: true }, timeout: this.remaining() }));
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
