// Runs in: the sandbox host process, the worker thread that runs the guest.
// IsolateGuest: one V8 isolate with its context and prelude, owned by exactly one job and disposed
// after it (never reused). Its only way in is the set of copy-only ivm.Callbacks made here; the host
// keeps its References (the prelude function, the runner) and never hands one to the guest.
// JsGuest and PythonGuest add what runs the job; limits, statuses and disposal live here, once.
import { randomBytes } from "node:crypto";
import ivm from "isolated-vm";
import type { GuestError, Status, Usage } from "../contract/result.ts";
import type { Json } from "../contract/job.ts";
import type { CallAnswer, CapabilityCall } from "../contract/calls.ts";
import { inexactNumber, MAX_VALUE_DEPTH, nestedDeeperThan } from "../contract/limits.ts";
import { crashed, killed, memoryExceeded, valueNotExact, valueTooBig, valueTooDeep, type Outcome } from "../contract/outcomes.ts";

import type { WireJob } from "../contract/admitted.ts";
import { harvestFiles, type HarvestedFile } from "../vfs/harvest.ts";
import { ivmOptions } from "./ivm-options.ts";
import { JobLimits } from "./limits.ts";
import type { Fd, OutputSink } from "./output.ts";
import { bridgeArguments, compilePrelude, type KindDoors, type PreludeKind } from "./prelude.ts";
import { errorFromHost, remapError } from "./stack.ts";

/**
 * The guest's way out to the host's capabilities during a run (the worker's CallChannel, src/pool/
 * calls.ts): declared here, where it is used, so the isolate layer does not depend on the pool.
 */
export interface GuestCalls {
  /** A Python guest's call: blocks this thread until the answer (or the deadline). */
  callSync(kind: CapabilityCall["kind"], name: string, argsJson: string): CallAnswer;
  /** A JavaScript guest's call: answered later, between slices. */
  callAsync(kind: CapabilityCall["kind"], name: string, argsJson: string, onAnswer: (a: CallAnswer) => void): void;
  close(): void;
}

export interface GuestOutcome {
  status: Status;
  value?: Json;
  error?: GuestError;
  files?: HarvestedFile[];
  usage: Usage;
}

const MAX_HOST_TIMERS = 10_001;

/**
 * A host function the guest may call. Anything it throws reaches the guest as a fresh error of the
 * same standard class carrying only the message (threat: host stack frames and file paths copied
 * into the guest with the exception).
 */
export function door(fn: (...args: unknown[]) => unknown): ivm.Callback {
  return new ivm.Callback((...args: unknown[]) => {
    try {
      return fn(...args);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const clean =
        e instanceof RangeError ? new RangeError(message) : e instanceof TypeError ? new TypeError(message) : new Error(message);
      clean.stack = `${clean.name}: ${message}`;
      throw clean;
    }
  });
}
/** A function of the prelude's API object, if this kind of guest has one. */
function optionalFunction(api: ivm.Reference, name: string): ivm.Reference | null {
  const ref = api.getSync(name, ivmOptions({ reference: true })) as ivm.Reference;
  if (ref.typeof === "function") return ref;
  ref.release();
  return null;
}

export abstract class IsolateGuest<K extends PreludeKind = PreludeKind> {
  protected context!: ivm.Context;
  protected start!: ivm.Reference;
  protected poll!: ivm.Reference;
  protected wait!: ivm.Reference;
  protected fire!: ivm.Reference;
  protected settle: ivm.Reference | null = null;
  #calls: GuestCalls | null = null;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  #sink: OutputSink | null = null;
  #filename = "main.js";
  #callsInFlight = 0;
  #stopped: Outcome | null = null;
  #signalStop!: () => void;
  readonly #stop = new Promise<void>((r) => {
    this.#signalStop = r;
  });

  readonly isolate: ivm.Isolate;
  readonly memoryMb: number;

  protected constructor(memoryMb: number) {
    // Threat: an allocation V8 cannot survive (one huge array) is a fatal OOM, which by default
    // aborts the whole host process and every job in it. With a handler, isolated-vm parks the
    // guest's thread instead; the pool's wedged-thread watchdog then replaces the thread and the
    // host process is recycled once its other jobs are done.
    const onCatastrophicError = (message: string) => this.terminate(crashed("GuestCrashed", message));
    this.isolate = new ivm.Isolate(ivmOptions({ memoryLimit: memoryMb, onCatastrophicError }));
    this.memoryMb = memoryMb;
  }

  /** Which prelude this guest runs (runtimes/isolate/, see prelude.ts). */
  protected abstract readonly kind: K;
  /** The kind's own doors, by name (prelude.ts lists them), beside the shared ones made here. */
  protected abstract kindDoors(): KindDoors<K>;

  /**
   * Set-up runs only our prelude, never guest code: synchronous calls skip the thread round trips.
   * Returns the prelude's API object; the caller releases it. On failure the isolate is disposed.
   */
  protected init(): ivm.Reference {
    try {
      this.context = this.isolate.createContextSync();
      const prelude = compilePrelude(this.isolate, this.kind);
      const fn = prelude.runSync(this.context, ivmOptions({ reference: true })) as ivm.Reference;
      const api = fn.applySync(undefined, this.#bridge(), ivmOptions({ result: { reference: true } })) as ivm.Reference;
      this.start = api.getSync("start", ivmOptions({ reference: true }));
      this.poll = api.getSync("poll", ivmOptions({ reference: true }));
      this.wait = api.getSync("wait", ivmOptions({ reference: true }));
      this.fire = api.getSync("fire", ivmOptions({ reference: true }));
      this.settle = optionalFunction(api, "settle");
      fn.release();
      prelude.release();
      return api;
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** The guest's only doors to the host, by name; prelude.ts puts each in its parameter's place. */
  #bridge(): unknown[] {
    return bridgeArguments(this.kind, {
      write: door((fd: unknown, text: unknown) => {
        if ((fd === 1 || fd === 2) && typeof text === "string") this.#sink?.write(fd as Fd, text);
      }),
      armTimer: door((id: unknown, ms: unknown) => this.#armTimer(id, ms)),
      cancelTimer: door((id: unknown) => {
        if (typeof id !== "number") return;
        clearTimeout(this.#timers.get(id));
        this.#timers.delete(id);
      }),
      randomBytes: door((n: unknown) => {
        // Threat: a guest asking for a huge buffer to grow host memory; the Web Crypto cap is 64 KiB.
        if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65536) throw new RangeError("invalid random byte count");
        return new Uint8Array(randomBytes(n));
      }),
      call: door((kind: unknown, name: unknown, argsJson: unknown, callId: unknown) => this.#call(kind, name, argsJson, callId)),
      ...this.kindDoors(),
    });
  }

  #armTimer(id: unknown, ms: unknown): void {
    if (typeof id !== "number" || typeof ms !== "number" || !Number.isInteger(id) || !(ms >= 0)) return;
    if (this.#stopped || this.isolate.isDisposed || !this.#limits) return;
    // Threat: a timer flood growing host memory; the guest caps its own table, this caps ours.
    if (!this.#timers.has(id) && this.#timers.size >= MAX_HOST_TIMERS) return;
    clearTimeout(this.#timers.get(id));
    this.#timers.set(
      id,
      setTimeout(
        () => {
          this.#timers.delete(id);
          if (this.#stopped || this.isolate.isDisposed || !this.#limits) return;
          // Asynchronous on purpose: isolated-vm keeps a timer record per timed call on the isolate,
          // and thousands of synchronous timed calls (a timer flood) made its teardown recurse until
          // the host process segfaulted. A timer is waiting anyway; the thread hop costs it ~1 ms.
          this.#callsInFlight++;
          this.fire.apply(undefined, [id], ivmOptions({ timeout: this.remaining() })).then(
            () => {
              this.#callsInFlight--;
            },
            (e: unknown) => {
              this.#callsInFlight--;
              this.#fault(e);
            },
          );
        },
        Math.min(ms, 2_147_483_647),
      ),
    );
  }

  /**
   * A capability call from the prelude. With a call id (JavaScript) the answer settles the guest's
   * promise later; without one (Python) this blocks and returns the answer as JSON.
   */
  #call(kind: unknown, name: unknown, argsJson: unknown, callId: unknown): string | undefined {
    if ((kind !== "binding" && kind !== "mcp" && kind !== "fetch") || typeof name !== "string" || typeof argsJson !== "string")
      throw new TypeError("invalid capability call");
    if (!this.#calls || this.#stopped) throw new Error("Capabilities are not available outside a job");
    if (typeof callId !== "number") {
      // A blocking call may wait long: lines printed before it reach the caller first.
      this.#sink?.flush();
      return JSON.stringify(this.#calls.callSync(kind, name, argsJson));
    }
    this.#calls.callAsync(kind, name, argsJson, (answer) => this.#settleCall(callId, answer));
    return undefined;
  }

  #settleCall(callId: number, answer: CallAnswer): void {
    if (this.#stopped || this.isolate.isDisposed || !this.settle || !this.#calls) return;
    const args = answer.ok ? [callId, true, answer.json] : [callId, false, answer.message, answer.name];
    this.#callsInFlight++;
    this.settle.apply(undefined, args, ivmOptions({ arguments: { copy: true }, timeout: this.remaining() })).then(
      () => {
        this.#callsInFlight--;
      },
      (e: unknown) => {
        this.#callsInFlight--;
        this.#fault(e);
      },
    );
  }

  #limits: JobLimits | null = null;
  /** isolated-vm's own timeout for a synchronous slice of guest code: what is left of the job's budget. */
  protected remaining(): number {
    return (this.#limits?.remainingMs() ?? 1000) + this.hardStopGraceMs;
  }

  /** How long past the budget isolated-vm's hard stop waits, for a guest with a softer stop first. */
  protected readonly hardStopGraceMs: number = 0;

  /** An error escaping a host→guest call (an unhandled rejection, a timeout): the job fails with it. */
  #fault(e: unknown): void {
    if (this.#stopped || this.isolate.isDisposed) return;
    this.terminate(this.#failure(e));
  }

  /**
   * The job's wall clock ran out while this thread was blocked for the guest (a Python guest's
   * blocking capability call): no timer of this thread could fire meanwhile. JavaScript guests
   * never block, and their JobLimits timer ends them; a guest that can block overrides this.
   */
  deadlineReached(): void {}

  /** Stop the guest now; the first reason wins. Safe to call from any callback or timer. */
  terminate(outcome: Outcome): void {
    if (this.#stopped) return;
    this.#stopped = outcome;
    this.#limits?.stop();
    this.#signalStop();
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }

  async run(job: WireJob, sink: OutputSink, calls?: GuestCalls): Promise<GuestOutcome> {
    this.#sink = sink;
    this.#calls = calls ?? null;
    this.#filename = job.filename;
    const limits = new JobLimits(this, this.isolate, job.limits);
    this.#limits = limits;
    let outcome: Omit<GuestOutcome, "usage">;
    try {
      outcome = await Promise.race([this.execute(job), this.#stop.then(() => this.#stoppedOutcome())]);
    } catch (e) {
      outcome = this.#stopped ? this.#stoppedOutcome() : this.#failure(e);
    }
    if (this.#stopped) outcome = this.#stoppedOutcome();
    else outcome = this.#withFiles(outcome, job);
    this.#calls?.close();
    limits.stop(!this.#stopped && this.#callsInFlight === 0);
    outcome = this.#classifyMemory(outcome, limits.peakBytes);
    if (outcome.error) outcome.error = remapError(outcome.error, job.filename, job.sourceMap);
    const usage: Usage = { wallMs: performance.now() - limits.startedAt, cpuMs: Number(limits.cpuNs) / 1e6 };
    if (limits.peakBytes > 0) usage.memoryPeakBytes = limits.peakBytes;
    return { ...outcome, usage };
  }

  /** Files the job left under /home/user/output (raw, from the envelope): checked, named, capped. */
  #withFiles(outcome: Omit<GuestOutcome, "usage"> & { rawFiles?: unknown }, job: WireJob): Omit<GuestOutcome, "usage"> {
    const { rawFiles, ...rest } = outcome;
    if (rawFiles === undefined || (rest.status !== "ok" && rest.status !== "error")) return rest;
    const harvested = harvestFiles(rawFiles, job.limits.maxFsBytes);
    if ("status" in harvested) return harvested;
    return harvested.files.length ? { ...rest, files: harvested.files } : rest;
  }

  /** Run the job's code in this guest and return the runner's envelope, interpreted. */
  protected abstract execute(job: WireJob): Promise<Omit<GuestOutcome, "usage">>;

  protected envelope(raw: unknown, maxValue: number): Omit<GuestOutcome, "usage"> & { rawFiles?: unknown } {
    const env = (raw ?? {}) as { kind?: unknown; json?: unknown; error?: unknown; size?: unknown; files?: unknown };
    const outcome = this.#interpret(env, maxValue);
    return env.files === undefined ? outcome : { ...outcome, rawFiles: env.files };
  }

  #interpret(env: { kind?: unknown; json?: unknown; error?: unknown; size?: unknown }, maxValue: number): Omit<GuestOutcome, "usage"> {
    if (env.kind === "ok") {
      if (typeof env.json !== "string") return { status: "ok" };
      if (Buffer.byteLength(env.json) > maxValue) return valueTooBig(Buffer.byteLength(env.json), maxValue);
      if (nestedDeeperThan(env.json, MAX_VALUE_DEPTH)) return valueTooDeep(MAX_VALUE_DEPTH);
      const inexact = inexactNumber(env.json);
      if (inexact !== undefined) return valueNotExact(inexact);
      return { status: "ok", value: JSON.parse(env.json) as Json };
    }
    if (env.kind === "too_big") return valueTooBig(Number(env.size), maxValue);
    if (env.kind === "memory") return memoryExceeded(this.memoryMb);
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
      return memoryExceeded(this.memoryMb, "array buffer allocation failed");
    }
    // Threat: one huge allocation (a 256 MB string) lands in V8's large-object space between two
    // of isolated-vm's GC-time checks, so a short job can finish above its cap. The cap still holds.
    if ((o.status === "ok" || o.status === "error") && peakBytes > this.memoryMb * 1024 * 1024) {
      return memoryExceeded(this.memoryMb, `peak ${Math.round(peakBytes / 1048576)} MB`);
    }
    return o;
  }

  #stoppedOutcome(): Outcome {
    return { ...this.#stopped! };
  }

  /** An exception out of isolated-vm that no limit of ours explains. */
  #failure(e: unknown): Outcome {
    const message = e instanceof Error ? e.message : String(e);
    if (/memory limit/i.test(message)) return memoryExceeded(this.memoryMb);
    if (/^Script execution timed out/.test(message) && this.#limits) return this.#limits.exceeded();
    if (this.isolate.isDisposed) return crashed("GuestCrashed", message);
    return { status: "error", error: errorFromHost(e, this.#filename) };
  }

  /**
   * The run is over: stop everything that could call into or out of the guest (timers, output,
   * capability answers). The isolate stays until dispose(), or until a session's next run.
   */
  endRun(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#limits?.stop();
    this.#limits = null;
    this.#sink = null;
    this.#calls?.close();
    this.#calls = null;
  }

  /** True while the guest can take another run (a session's guest that no limit has stopped). */
  get reusable(): boolean {
    return !this.#stopped && !this.isolate.isDisposed;
  }

  /** The single disposal path: stop, then the isolate. Idempotent. */
  dispose(): void {
    this.endRun();
    this.#stopped ??= killed("The guest was stopped");
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}
