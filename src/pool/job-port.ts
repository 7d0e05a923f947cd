// Runs in: the sandbox host process, main thread.
// driveJob and its JobDriver: the host thread's end of one job's MessagePort, whichever thread runs
// the job (a pooled worker or a session's own). It relays streamed lines and capability calls, sets a
// Python guest's soft stop at the deadline, and ends the thread itself when it is wedged or deaf to
// an abort. (The far end, on the job's thread, is job-runner.ts.)
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { buildResult, type RunResult } from "../contract/result.ts";
import { OutputCap } from "../output/cap.ts";
import { InterruptBuffer } from "../python/interrupt.ts";
import type { FromWorker, ToWorker } from "./thread-protocol.ts";
import { WakeBuffer } from "./wake.ts";
import { type CallAnswer, type CapabilityCall } from "../contract/calls.ts";
import { CallRelay } from "../calls/relay.ts";
import type { WireJob } from "../contract/admitted.ts";
import { crashed, killed, wallTimeout, type Outcome } from "../contract/outcomes.ts";

/** How long past its deadline a job's thread may stay unresponsive before it is terminated. */
export const WEDGED_GRACE_MS = 1_000;
/** How long a running job may take to honour an abort before its worker thread is terminated. */
export const ABORT_GRACE_MS = 250;
const RESULT_GRACE_MS = 1_000;

/** A launch that ends without a result for a reason its thread's owner knows (a session was ended). */
export class LaunchEnded extends Error {
  readonly outcome: Outcome;
  constructor(outcome: Outcome) {
    super(outcome.error.message);
    this.outcome = outcome;
  }
}

/** A job's capability calls, relayed by the host process to the embedding process and answered. */
export type OnCall = (call: CapabilityCall) => Promise<CallAnswer>;
export type OnOut = (fd: 1 | 2, lines: string[]) => void;

export interface JobHooks {
  onOut: OnOut;
  onCall: OnCall;
  signal: AbortSignal;
  /** Hears of a thread that had to be terminated (it may not actually stop: recycle the process). */
  onWedged: () => void;
}

type Started = Extract<FromWorker, { t: "started" }>;

/**
 * One job as the host thread sees it, from launch to its one result: it relays the job's port
 * (streamed lines, capability calls), owns the job's clocks once its thread has a guest, and turns
 * the thread's end, however it came, into a result. The first result wins; everything of the job
 * (its calls, its timers, its port) stops with it.
 */
class JobDriver {
  readonly #job: WireJob;
  readonly #hooks: JobHooks;
  readonly #port: MessagePort;
  /** Aborted to have the job's thread terminated (its launch then rejects). */
  readonly #cancel = new AbortController();
  readonly #calls: CallRelay;
  readonly #timers: NodeJS.Timeout[] = [];
  #wake: WakeBuffer | null = null;
  #started = false;
  #wedged = false;
  #settled = false;
  /** What the job printed, as streamed here: its result's text if the thread never sends one. */
  readonly #heard: Record<1 | 2, string> = { 1: "", 2: "" };
  readonly #heardCap: OutputCap;
  readonly #launched = performance.now();
  #resolve!: (result: RunResult) => void;
  readonly result = new Promise<RunResult>((resolve) => {
    this.#resolve = resolve;
  });

  constructor(job: WireJob, hooks: JobHooks, port: MessagePort) {
    this.#job = job;
    this.#hooks = hooks;
    this.#port = port;
    this.#heardCap = new OutputCap(job.limits.maxOutputBytes);
    // The worker's calls, answered back on the job's port until the job settles (src/calls/relay.ts).
    this.#calls = new CallRelay({ forward: hooks.onCall, reply: (callId, answer) => this.#toWorker({ t: "answer", callId, answer }) });
    port.on("message", (m: FromWorker) => this.#onMessage(m));
    if (hooks.signal.aborted) this.onAbort();
    else hooks.signal.addEventListener("abort", this.onAbort, { once: true });
  }

  get cancel(): AbortSignal {
    return this.#cancel.signal;
  }

  #onMessage(m: FromWorker): void {
    if (m.t === "out") this.#onOut(m.fd, m.lines);
    else if (m.t === "result") this.onSettled(m.result);
    else if (m.t === "call") this.#calls.relay(m.call);
    else if (m.t === "started") this.onStarted(m);
  }

  /** Lines of the job: kept (under the job's cap), and passed on if the caller streams that fd. */
  #onOut(fd: 1 | 2, lines: string[]): void {
    this.#heard[fd] += this.#heardCap.take(lines.map((l) => l + "\n").join(""));
    if (fd === 1 ? this.#job.stream.stdout : this.#job.stream.stderr) this.#hooks.onOut(fd, lines);
  }

  /** A result made here, for a thread that ended without sending one: with what the job printed. */
  #lost(outcome: Outcome): RunResult {
    return buildResult({
      ...outcome,
      stdout: this.#heard[1],
      stderr: this.#heard[2],
      usage: { wallMs: performance.now() - this.#launched },
    });
  }

  /** Every message to the worker bumps the job's wake buffer: a Python guest blocked in a call reads then. */
  #toWorker(m: ToWorker): void {
    this.#port.postMessage(m);
    this.#wake?.bump();
  }

  /** A timer of this job's, cleared when it settles (none is started after). */
  #after(ms: number, fn: () => void): void {
    if (this.#settled) return;
    this.#timers.push(setTimeout(fn, ms));
  }

  /** The job's thread has its guest: the job's clocks start now, as the worker's do. */
  onStarted(m: Started): void {
    this.#started = true;
    this.#wake = new WakeBuffer(m.wake);
    const { timeoutMs } = this.#job.limits;
    // Soft stop for Python: the guest's thread is busy running it, so this thread sets the
    // interrupt buffer at the deadline (KeyboardInterrupt); isolated-vm stops it hard later.
    if (m.interrupt) {
      const interrupt = new InterruptBuffer(m.interrupt);
      this.#after(timeoutMs, () => interrupt.set());
    }
    // Threat: a worker thread stuck in host code past the deadline; kill the thread itself.
    this.#after(timeoutMs + WEDGED_GRACE_MS, () => {
      this.#wedged = true;
      this.#cancel.abort();
      this.#hooks.onWedged();
    });
  }

  /** The caller aborted (or the sandbox closed). */
  readonly onAbort = (): void => {
    if (!this.#started) return this.#cancel.abort();
    this.#toWorker({ t: "abort" });
    // A guest busy in a synchronous slice cannot hear the message until the slice ends: past a
    // short grace, terminate the worker thread itself.
    this.#after(ABORT_GRACE_MS, () => this.#cancel.abort());
  };

  /** The thread says it is done with the job. */
  onThreadDone(): void {
    // The result travels on the job's port, the task's completion on another channel: the two
    // are not ordered, so give a result already posted time to arrive before calling it lost.
    this.#after(RESULT_GRACE_MS, () =>
      this.onSettled(this.#lost(crashed("WorkerCrashed", "The worker thread finished the job without a result"))),
    );
  }

  /** The thread ended without being done with the job: terminated by us, ended by its owner, or dead. */
  onThreadFailed(e: unknown): void {
    if (this.#wedged) this.onSettled(this.#lost(wallTimeout(this.#job.limits.timeoutMs, "its worker thread was replaced")));
    else if (this.#cancel.signal.aborted) this.onSettled(this.#lost(killed()));
    else if (e instanceof LaunchEnded) this.onSettled(this.#lost(e.outcome));
    else
      this.onSettled(
        this.#lost(crashed("WorkerCrashed", `The worker thread running the job died: ${e instanceof Error ? e.message : String(e)}`)),
      );
  }

  /** The job's result: the first wins. */
  onSettled(result: RunResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#calls.close();
    for (const t of this.#timers) clearTimeout(t);
    this.#hooks.signal.removeEventListener("abort", this.onAbort);
    this.#resolve(result);
    // Closed after the result has been sent on (the caller's continuations run first): the
    // worker waits for this before its CPU-heavy dispose and refill.
    setImmediate(() => this.#port.close());
  }
}

/**
 * `launch` hands the job's port to its thread and resolves when the thread is done with the job;
 * it rejects (or the thread dies) once `cancel` aborts.
 */
export function driveJob(
  job: WireJob,
  hooks: JobHooks,
  launch: (port: MessagePort, cancel: AbortSignal) => Promise<unknown>,
): Promise<RunResult> {
  const { port1, port2 } = new MessageChannel();
  const driver = new JobDriver(job, hooks, port1);
  launch(port2, driver.cancel).then(
    () => driver.onThreadDone(),
    (e: unknown) => driver.onThreadFailed(e),
  );
  return driver.result;
}
