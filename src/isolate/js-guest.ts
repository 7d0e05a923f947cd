// JsGuest: one V8 isolate with its context and prelude, owned by exactly one job and disposed after
// it (never reused). Its only way in is the set of copy-only ivm.Callbacks made here; the host keeps
// its References (the prelude function, the runner) and never hands one to the guest.
import { randomBytes } from "node:crypto";
import ivm from "isolated-vm";
import type { GuestError, Json, Status, Usage } from "../api/schemas.ts";
import type { WireJob } from "../host/protocol.ts";
import { ivmOptions } from "./ivm-options.ts";
import { JobLimits } from "./limits.ts";
import type { Fd, OutputSink } from "./output.ts";
import { compilePrelude } from "./prelude.ts";
import { errorFromHost, remapError } from "./stack.ts";
import { importError } from "./imports.ts";
import { urlOp } from "./url-op.ts";

export interface GuestOutcome {
  status: Status;
  value?: Json;
  error?: GuestError;
  usage: Usage;
}

const MAX_HOST_TIMERS = 10_001;

/**
 * A host function the guest may call. Anything it throws reaches the guest as a fresh error of the
 * same standard class carrying only the message (threat: host stack frames and file paths copied
 * into the guest with the exception).
 */
function door(fn: (...args: unknown[]) => unknown): ivm.Callback {
  return new ivm.Callback((...args: unknown[]) => {
    try {
      return fn(...args);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const clean = e instanceof RangeError ? new RangeError(message) : e instanceof TypeError ? new TypeError(message) : new Error(message);
      clean.stack = `${clean.name}: ${message}`;
      throw clean;
    }
  });
}
const MIN_VALUE_CAP = 16 * 1024 * 1024;

export class JsGuest {
  #context!: ivm.Context;
  #start!: ivm.Reference;
  #poll!: ivm.Reference;
  #wait!: ivm.Reference;
  #fire!: ivm.Reference;
  readonly #entryName = `__isobox_entry_${randomBytes(12).toString("hex")}`;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  #sink: OutputSink | null = null;
  #filename = "main.js";
  #callsInFlight = 0;
  #stopped: { status: Status; error: GuestError } | null = null;
  #signalStop!: () => void;
  readonly #stop = new Promise<void>((r) => { this.#signalStop = r; });

  readonly isolate: ivm.Isolate;
  readonly memoryMb: number;

  private constructor(isolate: ivm.Isolate, memoryMb: number) {
    this.isolate = isolate;
    this.memoryMb = memoryMb;
  }

  static create(memoryMb: number): JsGuest {
    let guest: JsGuest | undefined;
    // Threat: an allocation V8 cannot survive (one huge array) is a fatal OOM, which by default
    // aborts the whole host process and every job in it. With a handler, isolated-vm parks the
    // guest's thread instead; the pool's wedged-thread watchdog then replaces the thread and the
    // host process is recycled once its other jobs are done.
    const onCatastrophicError = (message: string) => guest?.terminate("crashed", { name: "GuestCrashed", message });
    const isolate = new ivm.Isolate(ivmOptions({ memoryLimit: memoryMb, onCatastrophicError }));
    guest = new JsGuest(isolate, memoryMb);
    try {
      guest.#init();
      return guest;
    } catch (e) {
      guest.dispose();
      throw e;
    }
  }

  /** Set-up runs only our prelude, never guest code: synchronous calls skip the thread round trips. */
  #init(): void {
    this.#context = this.isolate.createContextSync();
    const prelude = compilePrelude(this.isolate);
    const fn = prelude.runSync(this.#context, ivmOptions({ reference: true })) as ivm.Reference;
    const api = fn.applySync(undefined, this.#bridge(), ivmOptions({ result: { reference: true } })) as ivm.Reference;
    this.#start = api.getSync("start", ivmOptions({ reference: true }));
    this.#poll = api.getSync("poll", ivmOptions({ reference: true }));
    this.#wait = api.getSync("wait", ivmOptions({ reference: true }));
    this.#fire = api.getSync("fire", ivmOptions({ reference: true }));
    fn.release();
    api.release();
    prelude.release();
  }

  /** The guest's only doors to the host, in the order the prelude expects (see prelude.ts). */
  #bridge(): unknown[] {
    return [
      door((fd: unknown, text: unknown) => {
        if ((fd === 1 || fd === 2) && typeof text === "string") this.#sink?.write(fd as Fd, text);
      }),
      door((id: unknown, ms: unknown) => this.#armTimer(id, ms)),
      door((id: unknown) => {
        if (typeof id !== "number") return;
        clearTimeout(this.#timers.get(id));
        this.#timers.delete(id);
      }),
      door((n: unknown) => {
        // Threat: a guest asking for a huge buffer to grow host memory; the Web Crypto cap is 64 KiB.
        if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65536) throw new RangeError("invalid random byte count");
        return new Uint8Array(randomBytes(n));
      }),
      door((op: unknown, a: unknown, b: unknown, c: unknown) => urlOp(op, a, b, c)),
      this.#entryName,
    ];
  }

  #armTimer(id: unknown, ms: unknown): void {
    if (typeof id !== "number" || typeof ms !== "number" || !Number.isInteger(id) || !(ms >= 0)) return;
    if (this.#stopped || this.isolate.isDisposed) return;
    // Threat: a timer flood growing host memory; the guest caps its own table, this caps ours.
    if (!this.#timers.has(id) && this.#timers.size >= MAX_HOST_TIMERS) return;
    clearTimeout(this.#timers.get(id));
    this.#timers.set(id, setTimeout(() => {
      this.#timers.delete(id);
      if (this.#stopped || this.isolate.isDisposed) return;
      // Asynchronous on purpose: isolated-vm keeps a timer record per timed call on the isolate,
      // and thousands of synchronous timed calls (a timer flood) made its teardown recurse until
      // the host process segfaulted. A timer is waiting anyway; the thread hop costs it ~1 ms.
      this.#callsInFlight++;
      this.#fire.apply(undefined, [id], ivmOptions({ timeout: this.#remaining() })).then(
        () => { this.#callsInFlight--; },
        (e: unknown) => { this.#callsInFlight--; this.#fault(e); },
      );
    }, Math.min(ms, 2_147_483_647)));
  }

  #limits: JobLimits | null = null;
  /** isolated-vm's own timeout for a synchronous slice of guest code: what is left of the job's budget. */
  #remaining(): number {
    return this.#limits?.remainingMs() ?? 1000;
  }

  /** An error escaping a host→guest call (an unhandled rejection, a timeout): the job fails with it. */
  #fault(e: unknown): void {
    if (this.#stopped || this.isolate.isDisposed) return;
    const failure = this.#failure(e);
    this.terminate(failure.status, failure.error ?? { name: "Error", message: String(e) });
  }

  /** Stop the guest now; the first reason wins. Safe to call from any callback or timer. */
  terminate(status: Status, error: GuestError): void {
    if (this.#stopped) return;
    this.#stopped = { status, error };
    this.#limits?.stop();
    this.#signalStop();
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }

  async run(job: WireJob, sink: OutputSink): Promise<GuestOutcome> {
    this.#sink = sink;
    this.#filename = job.filename;
    const limits = new JobLimits(this, this.isolate, job.limits);
    this.#limits = limits;
    let outcome: Omit<GuestOutcome, "usage">;
    try {
      outcome = await Promise.race([this.#execute(job), this.#stop.then(() => this.#stoppedOutcome())]);
    } catch (e) {
      outcome = this.#stopped ? this.#stoppedOutcome() : this.#failure(e);
    }
    if (this.#stopped) outcome = this.#stoppedOutcome();
    limits.stop(!this.#stopped && this.#callsInFlight === 0);
    outcome = this.#classifyMemory(outcome, limits.peakBytes);
    if (outcome.error) outcome.error = remapError(outcome.error, job.filename, job.sourceMap);
    const usage: Usage = { wallMs: performance.now() - limits.startedAt, cpuMs: Number(limits.cpuNs) / 1e6 };
    if (limits.peakBytes > 0) usage.memoryPeakBytes = limits.peakBytes;
    return { ...outcome, usage };
  }

  async #execute(job: WireJob): Promise<Omit<GuestOutcome, "usage">> {
    // Compiling and linking run no guest code, so the synchronous forms are safe here and save a
    // round trip to the isolate's thread each (measured: ~0.1 ms apiece).
    const user = this.isolate.compileModuleSync(job.code, ivmOptions({ filename: job.filename }));
    user.instantiateSync(this.#context, (specifier: string) => { throw importError(specifier); });
    const entrySource = `import * as ns from "isobox:user";\nglobalThis[${JSON.stringify(this.#entryName)}](ns);\n`;
    const entry = this.isolate.compileModuleSync(entrySource, ivmOptions({ filename: "isobox:entry" }));
    entry.instantiateSync(this.#context, (specifier: string) => {
      if (specifier === "isobox:user") return user;
      throw importError(specifier);
    });
    const maxValue = Math.max(MIN_VALUE_CAP, job.limits.maxOutputBytes);
    // Guest code runs synchronously on this thread, in slices bounded by isolated-vm's own timeout
    // (set to what is left of the wall and CPU budgets): a round trip to the isolate's thread pool
    // costs ~1 ms here, more than most jobs. Between slices (awaits, timers) the guest is idle and the
    // JobLimits watchdog runs. The runner starts first and waits for the entry hook, so top-level
    // await is honoured.
    this.#start.applySync(undefined, [job.inputJson, job.id, JSON.stringify(job.env), maxValue], ivmOptions({ arguments: { copy: true }, timeout: this.#remaining() }));
    entry.evaluateSync(ivmOptions({ timeout: this.#remaining() }));
    let envelope: unknown = this.#poll.applySync(undefined, [], ivmOptions({ result: { copy: true } }));
    if (envelope === undefined) envelope = await this.#wait.apply(undefined, [], ivmOptions({ result: { promise: true, copy: true } }));
    return this.#envelope(envelope, maxValue);
  }

  #envelope(raw: unknown, maxValue: number): Omit<GuestOutcome, "usage"> {
    const env = (raw ?? {}) as { kind?: unknown; json?: unknown; error?: unknown; size?: unknown };
    if (env.kind === "ok") {
      if (typeof env.json !== "string") return { status: "ok" };
      if (Buffer.byteLength(env.json) > maxValue) return this.#tooBig(Buffer.byteLength(env.json), maxValue);
      return { status: "ok", value: JSON.parse(env.json) as Json };
    }
    if (env.kind === "too_big") return this.#tooBig(Number(env.size), maxValue);
    if (env.kind === "error" && env.error && typeof env.error === "object") {
      const e = env.error as Record<string, unknown>;
      const error: GuestError = { name: String(e.name ?? "Error"), message: String(e.message ?? "") };
      if (typeof e.stack === "string") error.stack = e.stack;
      return { status: "error", error };
    }
    return { status: "error", error: { name: "Error", message: "The guest returned a malformed result" } };
  }

  /**
   * Threat: ArrayBuffer bombs. Their backing stores are charged to the same memoryLimit but fail as
   * a catchable RangeError instead of killing the isolate: an uncaught one is the same cap, same status.
   */
  #classifyMemory(o: Omit<GuestOutcome, "usage">, peakBytes: number): Omit<GuestOutcome, "usage"> {
    if (o.status === "error" && o.error?.name === "RangeError" && o.error.message === "Array buffer allocation failed") {
      return { status: "memory", error: { name: "MemoryError", message: `Job exceeded its memory limit of ${this.memoryMb} MB (array buffer allocation failed)` } };
    }
    // Threat: one huge allocation (a 256 MB string) lands in V8's large-object space between two
    // of isolated-vm's GC-time checks, so a short job can finish above its cap. The cap still holds.
    if ((o.status === "ok" || o.status === "error") && peakBytes > this.memoryMb * 1024 * 1024) {
      return { status: "memory", error: { name: "MemoryError", message: `Job exceeded its memory limit of ${this.memoryMb} MB (peak ${Math.round(peakBytes / 1048576)} MB)` } };
    }
    return o;
  }

  #tooBig(size: number, max: number): Omit<GuestOutcome, "usage"> {
    return { status: "output_limit", error: { name: "OutputLimitError", message: `The returned value is ${size} bytes of JSON, over the ${max} byte limit` } };
  }

  #stoppedOutcome(): Omit<GuestOutcome, "usage"> {
    return { status: this.#stopped!.status, error: this.#stopped!.error };
  }

  /** An exception out of isolated-vm that no limit of ours explains. */
  #failure(e: unknown): Omit<GuestOutcome, "usage"> {
    const message = e instanceof Error ? e.message : String(e);
    if (/memory limit/i.test(message)) {
      return { status: "memory", error: { name: "MemoryError", message: `Job exceeded its memory limit of ${this.memoryMb} MB` } };
    }
    if (/^Script execution timed out/.test(message) && this.#limits) return { status: "timeout", error: this.#limits.exceededError() };
    if (this.isolate.isDisposed) return { status: "crashed", error: { name: "GuestCrashed", message } };
    return { status: "error", error: errorFromHost(e, this.#filename) };
  }

  /** Stop everything that could call into or out of the guest (timers, output); the isolate stays until dispose(). */
  stop(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#limits?.stop();
    this.#sink = null;
    this.#stopped ??= { status: "killed", error: { name: "AbortError", message: "The guest was stopped" } };
  }

  /** The single disposal path: stop, then the isolate. Idempotent. */
  dispose(): void {
    this.stop();
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

