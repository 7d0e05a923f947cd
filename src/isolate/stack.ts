// Guest stack traces, as the caller sees them: no host frames (threat: host paths and internals
// leaking through error stacks), and TypeScript frames mapped back to the user's own lines.
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import type { GuestError } from "../contract/result.ts";

const BOUNDARY = "<isolated-vm boundary>";

/**
 * Keep the guest part of a stack copied out by isolated-vm: the message, then only frames in the
 * guest's own module (everything past the isolate boundary is host code).
 */
export function guestStack(stack: string, filename: string): string {
  const lines = stack.split("\n");
  const cut = lines.findIndex((l) => l.includes(BOUNDARY));
  const kept = cut < 0 ? lines : lines.slice(0, cut);
  return kept.filter((l) => !/^\s+at /.test(l) || l.includes(`${filename}:`)).join("\n");
}

/** Same cap as the in-guest runner applies to errors from main (runtimes/isolate/runner.js). */
const MAX_ERROR_TEXT = 64 * 1024;

/** An error thrown out of isolated-vm into the host, described for the caller. */
export function errorFromHost(e: unknown, filename: string): GuestError {
  if (e instanceof Error) {
    const out: GuestError = { name: String(e.name || "Error").slice(0, 256), message: String(e.message).slice(0, MAX_ERROR_TEXT) };
    if (typeof e.stack === "string") out.stack = guestStack(e.stack, filename).slice(0, MAX_ERROR_TEXT);
    return out;
  }
  let text: string;
  try {
    text = String(e);
  } catch {
    text = "[unprintable]";
  }
  return { name: "Error", message: `Uncaught ${text}`.slice(0, MAX_ERROR_TEXT) };
}

/** Rewrite `file:line:col` positions of the transpiled module to the user's TypeScript source. */
export function remapError(error: GuestError, filename: string, sourceMap: string | undefined): GuestError {
  if (!sourceMap) return error;
  let map: TraceMap;
  try {
    map = new TraceMap(sourceMap);
  } catch {
    return error;
  }
  const escaped = filename.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`${escaped}:(\\d+):(\\d+)`, "g");
  const fix = (text: string) =>
    text.replace(re, (whole, line: string, col: string) => {
      const pos = originalPositionFor(map, { line: Number(line), column: Number(col) - 1 });
      return pos.line == null ? whole : `${filename}:${pos.line}:${(pos.column ?? 0) + 1}`;
    });
  return { ...error, message: fix(error.message), ...(error.stack ? { stack: fix(error.stack) } : {}) };
}
