// Runs in: the embedding process.
// CallDispatcher: answers one job's capability calls in the embedding process, where the handlers,
// MCP clients and the fetch capability live. Everything a guest sends is untrusted: the arguments
// are parsed and checked here before any handler sees them, and only JSON or a message goes back.
import type { Bindings } from "../contract/job.ts";
import { describeIssue } from "../contract/issues.ts";
import { MCP_NAME_SEPARATOR, type CallAnswer, type CapabilityCall } from "../contract/calls.ts";
import { GuestFacingError } from "./errors.ts";

/** Largest JSON a handler may answer with (threat: a result that swamps the guest's heap or IPC). */
export const MAX_RESULT_JSON = 16 * 1024 * 1024;
/** Deepest argument nesting accepted (threat: stack exhaustion in validators and handlers). */
export const MAX_ARGS_DEPTH = 64;
const MAX_MESSAGE = 4096;

export interface BindingCallEvent {
  jobId: string;
  session?: string;
  name: string;
  ok: boolean;
  ms: number;
}

/** The host-side capabilities a job may call, besides its bindings. */
export interface HostCapabilities {
  mcp?: { call(server: string, tool: string, args: unknown, opts: { signal: AbortSignal; timeoutMs: number }): Promise<unknown> };
  fetch?: (request: unknown, signal: AbortSignal) => Promise<unknown>;
}

export interface DispatchContext {
  jobId: string;
  session?: string;
  maxCalls: number;
  callTimeoutMs: number;
  onBindingCall?: (e: BindingCallEvent) => void;
}

/** JSON.parse that refuses `__proto__` keys (threat: prototype pollution in handlers that merge args). */
export function parseArgs(json: string): unknown {
  const value: unknown = JSON.parse(json, (key, v: unknown) => {
    if (key === "__proto__") throw new GuestFacingError("ValidationError", 'Argument objects may not have a "__proto__" key');
    return v;
  });
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    if (depth > MAX_ARGS_DEPTH) throw new GuestFacingError("ValidationError", `Arguments are nested deeper than ${MAX_ARGS_DEPTH} levels`);
    for (const child of Object.values(item)) if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return value;
}

/** The error class the guest sees: a guest-facing error's own (a refusal here, a capability's), or the kind's default. */
function guestErrorName(e: unknown, call: CapabilityCall): string {
  if (e instanceof GuestFacingError) return e.name;
  return call.kind === "fetch" ? "FetchError" : "BindingError";
}

function messageOf(e: unknown): string {
  const text = e instanceof Error ? e.message : typeof e === "string" ? e : "The host handler failed";
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

export class CallDispatcher {
  #made = 0;
  readonly #inflight = new Set<AbortController>();
  #closed = false;

  readonly #bindings: Map<string, Bindings[string]>;
  readonly #host: HostCapabilities;
  readonly #ctx: DispatchContext;

  constructor(bindings: Bindings, host: HostCapabilities, ctx: DispatchContext) {
    // A Map, never a lookup on a plain object (threat: a call named "constructor" or "__proto__").
    this.#bindings = new Map(Object.entries(bindings));
    this.#host = host;
    this.#ctx = ctx;
  }

  async answer(call: CapabilityCall): Promise<CallAnswer> {
    const started = performance.now();
    const label = call.kind === "mcp" ? call.name.replace(MCP_NAME_SEPARATOR, ".") : call.kind === "fetch" ? "fetch" : call.name;
    let answer: CallAnswer;
    try {
      const value = await this.#run(call);
      answer = this.#encode(value);
    } catch (e) {
      answer = { ok: false, name: guestErrorName(e, call), message: messageOf(e) };
    }
    const event: BindingCallEvent = { jobId: this.#ctx.jobId, name: label, ok: answer.ok, ms: performance.now() - started };
    if (this.#ctx.session !== undefined) event.session = this.#ctx.session;
    try {
      this.#ctx.onBindingCall?.(event);
    } catch {
      /* the caller's audit hook must not break the job */
    }
    return answer;
  }

  async #run(call: CapabilityCall): Promise<unknown> {
    if (this.#closed) throw new GuestFacingError("BindingError", "The job has ended");
    // Threat: a call flood; the worker counts too, this is the count that holds if it did not.
    if (++this.#made > this.#ctx.maxCalls)
      throw new GuestFacingError("BindingError", `Binding call budget exhausted: at most ${this.#ctx.maxCalls} calls per job`);
    let args: unknown;
    try {
      args = parseArgs(call.argsJson);
    } catch (e) {
      throw e instanceof GuestFacingError ? e : new GuestFacingError("ValidationError", "Arguments are not valid JSON");
    }
    return this.#withTimeout(call, (signal) => this.#invoke(call, args, signal));
  }

  #invoke(call: CapabilityCall, args: unknown, signal: AbortSignal): Promise<unknown> | unknown {
    if (call.kind === "binding") {
      const binding = this.#bindings.get(call.name);
      if (!binding) throw new GuestFacingError("BindingError", `No binding named ${JSON.stringify(call.name)}`);
      const parsed = binding.input.safeParse(args ?? {});
      if (!parsed.success)
        throw new GuestFacingError("ValidationError", `Invalid arguments for ${call.name}: ${describeIssue(parsed.error)}`);
      const ctx: { jobId: string; session?: string; signal: AbortSignal } = { jobId: this.#ctx.jobId, signal };
      if (this.#ctx.session !== undefined) ctx.session = this.#ctx.session;
      return binding.handler(parsed.data, ctx);
    }
    if (call.kind === "mcp") {
      const [server, tool] = call.name.split(MCP_NAME_SEPARATOR, 2) as [string, string | undefined];
      if (!this.#host.mcp || tool === undefined) throw new GuestFacingError("BindingError", "No MCP tools are configured");
      return this.#host.mcp.call(server, tool, args ?? {}, { signal, timeoutMs: this.#ctx.callTimeoutMs });
    }
    if (!this.#host.fetch) throw new GuestFacingError("BindingError", "fetch is not enabled for this sandbox");
    return this.#host.fetch(args, signal);
  }

  async #withTimeout(call: CapabilityCall, run: (signal: AbortSignal) => unknown): Promise<unknown> {
    const abort = new AbortController();
    this.#inflight.add(abort);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        const what = call.kind === "fetch" ? "fetch" : `The binding call ${JSON.stringify(call.name.replace(MCP_NAME_SEPARATOR, "."))}`;
        reject(new GuestFacingError("TimeoutError", `${what} did not answer within ${this.#ctx.callTimeoutMs} ms`));
      }, this.#ctx.callTimeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(() => run(abort.signal)), timeout]);
    } finally {
      clearTimeout(timer);
      this.#inflight.delete(abort);
    }
  }

  #encode(value: unknown): CallAnswer {
    if (value === undefined) return { ok: true };
    let json: string | undefined;
    try {
      json = JSON.stringify(value); // functions and symbols vanish, as for a job's own result
    } catch (e) {
      throw new GuestFacingError("BindingError", `The binding's result is not JSON: ${messageOf(e)}`);
    }
    if (json === undefined) return { ok: true };
    if (json.length > MAX_RESULT_JSON)
      throw new GuestFacingError(
        "BindingError",
        `The binding's result is ${json.length} bytes of JSON, over the ${MAX_RESULT_JSON} byte limit`,
      );
    return { ok: true, json };
  }

  /** The job is over: handlers still running are told through their signal; late answers go nowhere. */
  close(): void {
    this.#closed = true;
    for (const a of this.#inflight) a.abort();
    this.#inflight.clear();
  }
}
