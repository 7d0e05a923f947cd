// Runs in: the sandbox host process, the worker thread that runs the guest.
// PythonGuest: Pyodide (CPython on WebAssembly) booted inside a fresh isolate — never in a Node
// worker, where Python would reach process, require and the host's files. Booted from a memory
// snapshot when one is given (~0.3 s) or cold (~2 s); each job gets its own interpreter.
import { readFileSync } from "node:fs";
import ivm from "isolated-vm";
import { InterruptBuffer, type InterruptShared } from "./interrupt.ts";
import type { WireJob } from "../contract/admitted.ts";
import { wallTimeout } from "../contract/outcomes.ts";
import { runSpec } from "../contract/run-spec.ts";
import { door, IsolateGuest, type GuestOutcome } from "../isolate/guest.ts";
import { ivmOptions } from "../isolate/ivm-options.ts";
import type { KindDoors } from "../isolate/prelude.ts";
import { RUNNER_FILES } from "./snapshot-file.ts";
import { assetBytes, assetText, PYODIDE_DIR, WHEEL_INDEX_JSON } from "./assets.ts";
import { snapshotImage } from "./snapshot-image.ts";

const RUNNER_SOURCE = RUNNER_FILES.map((u) => readFileSync(u, "utf8")).join("\n\n");
const BOOT_TIMEOUT_MS = 60_000;

/** pyodide.asm.mjs and pyodide.mjs, compiled once per thread (V8 code cache for later isolates). */
const moduleCache = new Map<string, ivm.ExternalCopy<ArrayBuffer>>();
function compileAsset(isolate: ivm.Isolate, context: ivm.Context, name: string): ivm.Module {
  const code = readFileSync(`${PYODIDE_DIR}/${name}`, "utf8");
  const cachedData = moduleCache.get(name);
  const module = isolate.compileModuleSync(
    code,
    ivmOptions(cachedData ? { filename: name, cachedData } : { filename: name, produceCachedData: true }),
  );
  const produced = (module as unknown as { cachedData?: ivm.ExternalCopy<ArrayBuffer> }).cachedData;
  if (!cachedData && produced) moduleCache.set(name, produced);
  module.instantiateSync(context, (specifier: string) => {
    throw new Error(`pyodide asset imports ${specifier}`);
  });
  return module;
}

/**
 * The interpreter's WebAssembly module, compiled once per thread. isolated-vm transfers a compiled
 * module between isolates without recompiling (V8's CompiledWasmModule): every guest shares its
 * machine code, instead of compiling 10 MB of WebAssembly on every restore.
 */
let compiledWasm: ivm.ExternalCopy<WebAssembly.Module> | undefined;
function interpreterWasm(): ivm.ExternalCopy<WebAssembly.Module> {
  compiledWasm ??= new ivm.ExternalCopy(new WebAssembly.Module(assetBytes("pyodide.asm.wasm") as Uint8Array<ArrayBuffer>));
  return compiledWasm;
}

/**
 * The snapshot's image (header and non-zero pages, see snapshot-image.ts), made once per thread per
 * snapshot. Each isolate gets its own copy of these bytes (copyInto copies): a guest must never be
 * able to write what the next interpreter is restored from.
 */
interface ImageCopies {
  header: ivm.ExternalCopy<ArrayBuffer>;
  pages: ivm.ExternalCopy<ArrayBuffer>;
  runs: number[];
  memoryBytes: number;
}
const images = new WeakMap<Uint8Array, ImageCopies>();
function imageCopies(snapshot: Uint8Array): ImageCopies {
  let copies = images.get(snapshot);
  if (!copies) {
    const image = snapshotImage(snapshot);
    copies = {
      header: new ivm.ExternalCopy(image.header.buffer as ArrayBuffer, { transferOut: true }),
      pages: new ivm.ExternalCopy(image.pages.buffer as ArrayBuffer, { transferOut: true }),
      runs: image.runs,
      memoryBytes: image.memoryBytes,
    };
    images.set(snapshot, copies);
  }
  return copies;
}

/** After the soft stop (KeyboardInterrupt) at the deadline, the hard stop (isolate) this much later. */
export const SOFT_STOP_GRACE_MS = 300;

/**
 * boot()'s snapshot arguments (runtimes/isolate/python.js): "make", or the image as its header, its
 * non-zero pages and their layout. Copies, never the thread's buffers themselves (copyInto without
 * transfer copies the bytes).
 */
function snapshotArguments(snapshot: Uint8Array | "make" | undefined): unknown[] {
  if (!(snapshot instanceof Uint8Array)) return [snapshot];
  const copies = imageCopies(snapshot);
  const layout = new ivm.ExternalCopy({ runs: copies.runs, memoryBytes: copies.memoryBytes }).copyInto({ release: true });
  return [copies.header.copyInto(), copies.pages.copyInto(), layout];
}

export class PythonGuest extends IsolateGuest<"python"> {
  protected readonly kind = "python";
  protected override readonly hardStopGraceMs = SOFT_STOP_GRACE_MS;
  readonly #interrupt = new InterruptBuffer();
  /** The interrupt buffers, for the host thread (only `signal` is shared with the isolate: Pyodide's). */
  get interrupt(): InterruptShared {
    return this.#interrupt.shared;
  }

  /**
   * Boot a guest. `waits`: it will sit in the warm pool, so its boot garbage is collected first;
   * a guest booted for a job that runs now skips that (~30 ms) and is disposed soon anyway.
   */
  static async create(memoryMb: number, snapshot?: Uint8Array, { waits = true } = {}): Promise<PythonGuest> {
    const guest = new PythonGuest(memoryMb);
    await guest.#boot(snapshot, waits);
    return guest;
  }

  /** A memory snapshot of a clean interpreter (the guest used to take it is disposed). */
  static async makeSnapshot(): Promise<Uint8Array> {
    const guest = new PythonGuest(512);
    try {
      return (await guest.#boot("make")) as Uint8Array;
    } finally {
      guest.dispose();
    }
  }

  protected kindDoors(): KindDoors<"python"> {
    return {
      asset: door((path: unknown, binary: unknown) => {
        if (typeof path !== "string") throw new TypeError("asset path must be a string");
        const bytes = assetBytes(path);
        return binary ? new ivm.ExternalCopy(bytes).copyInto({ release: true }) : Buffer.from(bytes).toString("utf8");
      }),
      runnerSource: RUNNER_SOURCE,
      wheelIndex: WHEEL_INDEX_JSON,
    };
  }

  async #boot(snapshot: Uint8Array | "make" | undefined, collectGarbage = false): Promise<unknown> {
    const api = this.init();
    try {
      const asm = compileAsset(this.isolate, this.context, "pyodide.asm.mjs");
      asm.evaluateSync(ivmOptions({ timeout: BOOT_TIMEOUT_MS }));
      const loader = compileAsset(this.isolate, this.context, "pyodide.mjs");
      loader.evaluateSync(ivmOptions({ timeout: BOOT_TIMEOUT_MS }));
      const createPyodideModule = asm.namespace.getSync("default", ivmOptions({ reference: true })) as ivm.Reference;
      const loadPyodide = loader.namespace.getSync("loadPyodide", ivmOptions({ reference: true })) as ivm.Reference;
      const boot = api.getSync("boot", ivmOptions({ reference: true })) as ivm.Reference;
      const result = await boot.apply(
        undefined,
        [
          loadPyodide.derefInto(),
          createPyodideModule.derefInto(),
          assetText("pyodide-lock.json"),
          interpreterWasm().copyInto(),
          new ivm.ExternalCopy(this.#interrupt.signal).copyInto({ release: true }),
          ...snapshotArguments(snapshot),
        ],
        ivmOptions({ result: { promise: true, copy: true }, timeout: BOOT_TIMEOUT_MS }),
      );
      for (const r of [createPyodideModule, loadPyodide, boot]) r.release();
      if (collectGarbage) {
        const collect = api.getSync("collect", ivmOptions({ reference: true })) as ivm.Reference;
        collect.applySync(undefined, [], ivmOptions({ timeout: BOOT_TIMEOUT_MS }));
        collect.release();
      }
      return result;
    } catch (e) {
      this.dispose();
      throw e;
    } finally {
      api.release();
    }
  }

  /** The same soft stop the host thread sends at the deadline, set from this thread. */
  override deadlineReached(): void {
    this.#interrupt.set();
  }

  protected async execute(job: WireJob): Promise<Omit<GuestOutcome, "usage">> {
    // A session's interpreter runs again: no soft stop of an earlier run may linger.
    this.#interrupt.clear();
    const spec = runSpec(job, { withCode: true });
    this.start.applySync(undefined, [spec], ivmOptions({ arguments: { copy: true }, timeout: this.remaining() }));
    let envelope: unknown = this.poll.applySync(undefined, [], ivmOptions({ result: { copy: true } }));
    if (envelope === undefined) envelope = await this.wait.apply(undefined, [], ivmOptions({ result: { promise: true, copy: true } }));
    const outcome = this.envelope(envelope, spec.maxValueBytes);
    // The host's soft stop surfaces as KeyboardInterrupt: that is the deadline, not a guest error.
    // Once the deadline has passed the job is over, whatever Python did next: the interrupt itself,
    // a blocking call's TimeoutError raised before Python checked for the interrupt, or that error
    // caught and the job finishing anyway.
    if ((outcome.status === "error" || outcome.status === "ok") && this.#interrupt.sent) {
      return wallTimeout(job.limits.timeoutMs);
    }
    return outcome;
  }
}
