// Runs in: the sandbox host process, the worker thread that runs the guest.
// CallChannel: the worker thread's end of a job's capability calls (bindings, MCP tools, fetch). A
// call goes out on the job's MessagePort to the host thread, which relays it to the embedding
// process where the handlers live. JavaScript guests get their answers asynchronously (as promises
// settled between slices); a Python guest blocks in its call, so this thread waits on the job's wake
// buffer and reads its port synchronously until the answer (or the deadline) comes.
//
// This end is where a call starts, not a hop it crosses, so it does not take a CallRelay: it
// allocates the call ids that every hop after it routes answers by, and waits for the asynchronous
// answers with the relay's PendingAnswers (by id; late, forged or repeated answers dropped; nothing
// after close). The in-flight cap is counted here too, with the relay's constant and wording, because
// at the origin a refusal has to be synchronous: the guest's call throws at once (a RangeError, as it
// always has) and nothing is posted. The host thread's CallRelay holds the same cap if this one fails.
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { PendingAnswers, refusedCall, tooManyInFlight } from "../calls/relay.ts";
import { MAX_CALLS_IN_FLIGHT, MCP_NAME_SEPARATOR, oversizedCall, type CallAnswer, type CapabilityCall } from "../contract/calls.ts";
import type { GuestCalls } from "../isolate/guest.ts";
import type { ToWorker } from "./thread-protocol.ts";
import { WakeBuffer } from "./wake.ts";

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
  readonly #wake = new WakeBuffer();
  #nextId = 1;
  #made = 0;
  /** A JavaScript guest's calls waiting for their answers. */
  readonly #pending = new PendingAnswers();
  #inFlight = 0;
  /** A Python guest's one blocking call, while it waits (its thread makes no other call meanwhile). */
  #blocking: { callId: number; answer?: CallAnswer } | null = null;
  #closed = false;

  readonly #port: MessagePort;
  readonly #limits: CallLimits;
  readonly #onOther: (m: ToWorker) => void;

  constructor(port: MessagePort, limits: CallLimits, onOther: (m: ToWorker) => void) {
    this.#port = port;
    this.#limits = limits;
    this.#onOther = onOther;
  }

  /** The wake buffer's bytes, for the host thread (which bumps it after each message it posts). */
  get wake(): SharedArrayBuffer {
    return this.#wake.buffer;
  }

  /** Every message the host thread sends this job, whichever way it was read. */
  receive(m: ToWorker): void {
    if (m?.t === "abort") this.close();
    if (m?.t !== "answer") return this.#onOther(m);
    if (this.#blocking?.callId === m.callId) this.#blocking.answer ??= m.answer;
    else this.#pending.answer(m.callId, m.answer);
  }

  /** Threat: a guest calling in a loop to flood the host; the job's budget counts every call. */
  #admit(name: string, argsJson: string): string | null {
    if (this.#closed) return "The job has ended";
    const oversized = oversizedCall(name, argsJson);
    if (oversized) return oversized;
    if (this.#made >= this.#limits.maxCalls) return `Binding call budget exhausted: at most ${this.#limits.maxCalls} calls per job`;
    this.#made++;
    return null;
  }

  #post(callId: number, kind: CapabilityCall["kind"], name: string, argsJson: string): void {
    this.#port.postMessage({ t: "call", call: { callId, kind, name, argsJson } });
  }

  /** A JavaScript guest's call: the answer comes later through `onAnswer`. Throws when refused. */
  callAsync(kind: CapabilityCall["kind"], name: string, argsJson: string, onAnswer: (a: CallAnswer) => void): void {
    const refused = this.#admit(name, argsJson);
    if (refused) throw new Error(refused);
    if (this.#inFlight >= MAX_CALLS_IN_FLIGHT) throw new RangeError(tooManyInFlight());
    const callId = this.#nextId++;
    this.#inFlight++;
    void this.#pending.expect(callId).then((answer) => {
      this.#inFlight--;
      onAnswer(answer);
    });
    this.#post(callId, kind, name, argsJson);
  }

  /**
   * A Python guest's call: blocks this thread until the answer, the per-call timeout or the job's
   * deadline. Time spent here is wall time, not CPU: the thread sleeps in Atomics.wait.
   */
  callSync(kind: CapabilityCall["kind"], name: string, argsJson: string): CallAnswer {
    const refused = this.#admit(name, argsJson);
    if (refused) return refusedCall(refused);
    const blocking: { callId: number; answer?: CallAnswer } = { callId: this.#nextId++ };
    this.#blocking = blocking;
    try {
      this.#post(blocking.callId, kind, name, argsJson);
      return this.#await(blocking, name);
    } finally {
      this.#blocking = null;
    }
  }

  /** Sleeps on the wake buffer, reading the port at each wake, until the answer or a deadline. */
  #await(blocking: { answer?: CallAnswer }, name: string): CallAnswer {
    const what = JSON.stringify(name.replace(MCP_NAME_SEPARATOR, "."));
    const jobLeft = this.#limits.remainingMs();
    const budget = Math.min(this.#limits.callTimeoutMs, jobLeft);
    const jobBound = jobLeft <= this.#limits.callTimeoutMs;
    const until = performance.now() + budget;
    for (;;) {
      const seq = this.#wake.seq;
      for (let m = receiveMessageOnPort(this.#port); m; m = receiveMessageOnPort(this.#port)) this.receive(m.message as ToWorker);
      if (blocking.answer) return blocking.answer;
      if (this.#closed) return refusedCall("The job was stopped during a binding call", "AbortError");
      const left = until - performance.now();
      if (left <= 0 && jobBound) {
        this.#limits.onJobDeadline?.();
        return refusedCall(`The job's wall-clock limit ran out while the binding call ${what} was waiting`, "TimeoutError");
      }
      if (left <= 0) return refusedCall(`The binding call ${what} did not answer within ${Math.round(budget)} ms`, "TimeoutError");
      this.#wake.sleep(seq, left);
    }
  }

  /** The job is over (or stopped): nothing more goes out, late answers are dropped. */
  close(): void {
    this.#closed = true;
    this.#pending.close();
  }
}
