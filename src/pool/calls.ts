// CallChannel: the worker thread's end of a job's capability calls (bindings, MCP tools, fetch). A
// call goes out on the job's MessagePort to the host thread, which relays it to the embedding
// process where the handlers live. JavaScript guests get their answers asynchronously (as promises
// settled between slices); a Python guest blocks in its call, so this thread waits on the job's wake
// buffer and reads its port synchronously until the answer (or the deadline) comes.
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { CallAnswer, CapabilityCall } from "../contract/calls.ts";
import type { GuestCalls } from "../isolate/guest.ts";
import type { ToWorker } from "./thread-protocol.ts";
import { MAX_CALLS_IN_FLIGHT } from "../contract/calls.ts";
import { WAKE_SEQ } from "./thread-protocol.ts";


export interface CallLimits {
  maxCalls: number;
  callTimeoutMs: number;
  /** What is left of the job's wall-clock budget, in ms. */
  remainingMs: () => number;
  /**
   * A blocking call's wait ended because the job's wall clock ran out (not the per-call timeout):
   * the job is over, and must end as `timeout`, whatever the guest does with the call's error.
   */
  onJobDeadline?: () => void;
}

export class CallChannel implements GuestCalls {
  readonly wake = new SharedArrayBuffer(4);
  #nextId = 1;
  #made = 0;
  readonly #async = new Map<number, (a: CallAnswer) => void>();
  readonly #syncAnswers = new Map<number, CallAnswer>();
  #closed = false;

  readonly #port: MessagePort;
  readonly #limits: CallLimits;
  readonly #onOther: (m: ToWorker) => void;

  constructor(port: MessagePort, limits: CallLimits, onOther: (m: ToWorker) => void) {
    this.#port = port;
    this.#limits = limits;
    this.#onOther = onOther;
  }

  /** Every message the host thread sends this job, whichever way it was read. */
  receive(m: ToWorker): void {
    if (m?.t === "abort") this.close();
    if (m?.t !== "answer") return this.#onOther(m);
    const waiter = this.#async.get(m.callId);
    if (waiter) { this.#async.delete(m.callId); waiter(m.answer); }
    else if (!this.#closed) this.#syncAnswers.set(m.callId, m.answer);
  }

  /** Threat: a guest calling in a loop to flood the host; the job's budget counts every call. */
  #admit(): string | null {
    if (this.#closed) return "The job has ended";
    if (this.#made >= this.#limits.maxCalls) return `Binding call budget exhausted: at most ${this.#limits.maxCalls} calls per job`;
    this.#made++;
    return null;
  }

  #post(kind: CapabilityCall["kind"], name: string, argsJson: string): number {
    const callId = this.#nextId++;
    this.#port.postMessage({ t: "call", call: { callId, kind, name, argsJson } });
    return callId;
  }

  /** A JavaScript guest's call: the answer comes later through `onAnswer`. Throws when refused. */
  callAsync(kind: CapabilityCall["kind"], name: string, argsJson: string, onAnswer: (a: CallAnswer) => void): void {
    const refused = this.#admit();
    if (refused) throw new Error(refused);
    if (this.#async.size >= MAX_CALLS_IN_FLIGHT) throw new RangeError(`Too many binding calls in flight: at most ${MAX_CALLS_IN_FLIGHT} at once`);
    this.#async.set(this.#post(kind, name, argsJson), onAnswer);
  }

  /**
   * A Python guest's call: blocks this thread until the answer, the per-call timeout or the job's
   * deadline. Time spent here is wall time, not CPU: the thread sleeps in Atomics.wait.
   */
  callSync(kind: CapabilityCall["kind"], name: string, argsJson: string): CallAnswer {
    const refused = this.#admit();
    if (refused) return { ok: false, name: "BindingError", message: refused };
    const callId = this.#post(kind, name, argsJson);
    const view = new Int32Array(this.wake);
    const jobLeft = this.#limits.remainingMs();
    const budget = Math.min(this.#limits.callTimeoutMs, jobLeft);
    const jobBound = jobLeft <= this.#limits.callTimeoutMs;
    const until = performance.now() + budget;
    for (;;) {
      const seq = Atomics.load(view, WAKE_SEQ);
      for (let m = receiveMessageOnPort(this.#port); m; m = receiveMessageOnPort(this.#port)) this.receive(m.message as ToWorker);
      const answer = this.#syncAnswers.get(callId);
      if (answer) { this.#syncAnswers.delete(callId); return answer; }
      if (this.#closed) return { ok: false, name: "AbortError", message: "The job was stopped during a binding call" };
      const left = until - performance.now();
      if (left <= 0 && jobBound) {
        this.#limits.onJobDeadline?.();
        return { ok: false, name: "TimeoutError", message: `The job's wall-clock limit ran out while the binding call ${JSON.stringify(name.replace("\u0000", "."))} was waiting` };
      }
      if (left <= 0) return { ok: false, name: "TimeoutError", message: `The binding call ${JSON.stringify(name.replace("\u0000", "."))} did not answer within ${Math.round(budget)} ms` };
      Atomics.wait(view, WAKE_SEQ, seq, left);
    }
  }

  /** The job is over (or stopped): nothing more goes out, late answers are dropped. */
  close(): void {
    this.#closed = true;
    this.#async.clear();
    this.#syncAnswers.clear();
  }
}
