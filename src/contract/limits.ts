// Runs in: every process. The job's caps: their shape, their defaults, and the one place they are
// resolved (sandbox defaults under job overrides), so every backend sizes a job the same way.
import { z } from "zod";
import type { Language } from "./job.ts";

const MiB = 1024 * 1024;

export const LimitsSchema = z.strictObject({
  timeoutMs: z
    .number()
    .int()
    .positive()
    .max(24 * 3600 * 1000),
  cpuTimeMs: z
    .number()
    .int()
    .positive()
    .max(24 * 3600 * 1000),
  memoryMb: z
    .number()
    .int()
    .min(8)
    .max(16 * 1024),
  maxOutputBytes: z
    .number()
    .int()
    .nonnegative()
    .max(1024 * MiB),
  maxFsBytes: z
    .number()
    .int()
    .nonnegative()
    .max(16 * 1024 * MiB),
  /** Capability calls (bindings, MCP tools, fetch) one job may make. */
  maxBindingCalls: z.number().int().nonnegative().max(1_000_000),
  /** How long one capability call may take before the guest sees a TimeoutError. */
  bindingTimeoutMs: z
    .number()
    .int()
    .positive()
    .max(24 * 3600 * 1000),
});
export type Limits = z.infer<typeof LimitsSchema>;
export const PartialLimitsSchema = LimitsSchema.partial();

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MEMORY_MB = { javascript: 128, typescript: 128, python: 256 } as const;
export const DEFAULT_MAX_OUTPUT_BYTES = MiB;
export const DEFAULT_MAX_FS_BYTES = 64 * MiB;
export const DEFAULT_MAX_BINDING_CALLS = 1000;
export const DEFAULT_BINDING_TIMEOUT_MS = 30_000;
/** Largest source accepted for one job: parsing is host work, so it is bounded at the door. */
export const MAX_CODE_BYTES = 8 * MiB;
/** Largest JSON input accepted for one job (it is copied into the guest's heap). */
export const MAX_INPUT_BYTES = 32 * MiB;
/** Output files one job may return (threat: a harvest of 100,000 tiny files swamping the caller). */
export const MAX_OUTPUT_FILES = 1000;

/** A job's full limits: its own, over the sandbox's defaults, over the built-in defaults. */
export function resolveLimits(language: Language, sandbox: Partial<Limits> | undefined, job: Partial<Limits> | undefined): Limits {
  const merged = { ...sandbox, ...job };
  const timeoutMs = merged.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    timeoutMs,
    cpuTimeMs: merged.cpuTimeMs ?? timeoutMs,
    memoryMb: merged.memoryMb ?? DEFAULT_MEMORY_MB[language],
    maxOutputBytes: merged.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    maxFsBytes: merged.maxFsBytes ?? DEFAULT_MAX_FS_BYTES,
    maxBindingCalls: merged.maxBindingCalls ?? DEFAULT_MAX_BINDING_CALLS,
    bindingTimeoutMs: merged.bindingTimeoutMs ?? DEFAULT_BINDING_TIMEOUT_MS,
  };
}

/**
 * The largest JSON value a job may return: at least 16 MiB, more when its output cap is larger.
 * One rule for both backends (the isolate's envelope, the container's result frame).
 */
export function valueCapBytes(limits: Pick<Limits, "maxOutputBytes">): number {
  return Math.max(16 * MiB, limits.maxOutputBytes);
}

/**
 * How deep a returned value may nest. Deeper JSON is refused before it is parsed: JSON.parse is
 * recursive, and a value nested 1,000,000 deep overflows the stack of whichever thread parses it
 * (threat: a guest that forged its runner's depth check to take its worker thread, or the
 * embedding process, down). Python's runner refuses at 500 itself.
 */
export const MAX_VALUE_DEPTH = 2000;

/** True when `json` nests arrays/objects deeper than `max` (a scan, no recursion, no parse). */
export function nestedDeeperThan(json: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Any number token a value's JSON might carry inexactly: long digit runs, or exponents. */
const MAYBE_INEXACT = /\d{16}|\d[eE][+-]?\d/;

/**
 * The first number in `json` that JSON.parse would not give back exactly (an integer past 2**53
 * that rounds, a magnitude that overflows to Infinity), or undefined. A value is what
 * the guest returned or nothing (threat: a result that says ok with another number than the job's).
 */
export function inexactNumber(json: string): string | undefined {
  if (!MAYBE_INEXACT.test(json)) return undefined;
  let found: string | undefined;
  JSON.parse(json, function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
    if (found === undefined && typeof value === "number" && context?.source !== undefined) {
      const source = context.source;
      const exact = /^-?\d+$/.test(source)
        ? BigInt(source) === BigInt(Math.trunc(value)) && Number.isFinite(value)
        : Number.isFinite(value);
      if (!exact) found = source;
    }
    return value;
  });
  return found;
}
