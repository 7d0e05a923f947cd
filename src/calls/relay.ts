// Runs in: every hop a capability call crosses (the worker's host thread, the sandbox host process,
// the embedding process for isolate and container jobs). The rules of relaying one job's calls,
// written once (the MCP SDK's Protocol-over-Transport split): at most MAX_CALLS_IN_FLIGHT waiting at
// once (threat: a call flood filling host memory), answers routed back by call id, and nothing
// relayed after the job ended (threat: a late answer of one run reaching the next run of the same
// session guest). The transport of each hop only moves messages.
import { MAX_CALLS_IN_FLIGHT, type CallAnswer, type CapabilityCall } from "../contract/calls.ts";

/** A refusal the guest sees as an exception raised by its call. */
export function refusedCall(message: string, name = "BindingError"): CallAnswer {
  return { ok: false, name, message };
}

/** The wording of a call refused past the in-flight cap, wherever it is counted. */
export function tooManyInFlight(max = MAX_CALLS_IN_FLIGHT): string {
  return `Too many binding calls in flight: at most ${max} at once`;
}

export interface RelayEnds {
  /** Passes the call on toward the handlers; resolves with their answer. */
  forward(call: CapabilityCall): Promise<CallAnswer>;
  /** Passes an answer back toward the guest. */
  reply(callId: number, answer: CallAnswer): void;
}

/** One job's calls through one hop: forwarded out, answered back, until close(). */
export class CallRelay {
  readonly #ends: RelayEnds;
  readonly #maxInFlight: number;
  #inFlight = 0;
  #closed = false;

  constructor(ends: RelayEnds, maxInFlight = MAX_CALLS_IN_FLIGHT) {
    this.#ends = ends;
    this.#maxInFlight = maxInFlight;
  }

  /** A call from the guest's side. Never throws; every call gets exactly one answer, unless closed. */
  relay(call: CapabilityCall): void {
    if (this.#closed) return;
    if (this.#inFlight >= this.#maxInFlight) {
      return this.#reply(call.callId, refusedCall(tooManyInFlight(this.#maxInFlight)));
    }
    this.#inFlight++;
    let forwarded: Promise<CallAnswer>;
    try {
      forwarded = this.#ends.forward(call);
    } catch (e) {
      forwarded = Promise.reject(e);
    }
    forwarded.then(
      (answer) => {
        this.#inFlight--;
        this.#reply(call.callId, answer);
      },
      (e: unknown) => {
        this.#inFlight--;
        this.#reply(call.callId, refusedCall(e instanceof Error ? e.message : "The host handler failed"));
      },
    );
  }

  #reply(callId: number, answer: CallAnswer): void {
    if (this.#closed) return;
    try {
      this.#ends.reply(callId, answer);
    } catch {
      /* the hop's transport is gone: the job's end reports what happened */
    }
  }

  /** The job ended: answers still on their way are dropped. */
  close(): void {
    this.#closed = true;
  }
}

/** The waiting half of a hop that sends calls on and gets answers as separate messages. */
export class PendingAnswers {
  readonly #waiting = new Map<number, (a: CallAnswer) => void>();
  #closed = false;

  /** The answer to `callId`, whenever it comes; a closed book answers at once with a refusal. */
  expect(callId: number): Promise<CallAnswer> {
    if (this.#closed) return Promise.resolve(refusedCall("The job has ended", "AbortError"));
    return new Promise((resolve) => this.#waiting.set(callId, resolve));
  }

  /** Routes an answer to its call; an answer nobody waits for (late, forged, repeated) is dropped. */
  answer(callId: number, answer: CallAnswer): void {
    const resolve = this.#waiting.get(callId);
    if (!resolve) return;
    this.#waiting.delete(callId);
    resolve(answer);
  }

  close(): void {
    this.#closed = true;
    this.#waiting.clear();
  }
}
