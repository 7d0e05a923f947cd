// The one result builder: every RunResult, from any layer, is made here.
import type { GuestError, Json, RunResult, Status, Usage } from "./schemas.ts";

export interface ResultParts {
  status: Status;
  value?: Json;
  error?: GuestError;
  stdout?: string;
  stderr?: string;
  files?: RunResult["files"];
  backend?: RunResult["backend"];
  usage?: Partial<Usage>;
}

export function buildResult(p: ResultParts): RunResult {
  const r: RunResult = {
    status: p.status,
    stdout: p.stdout ?? "",
    stderr: p.stderr ?? "",
    files: p.files ?? [],
    backend: p.backend ?? "isolate",
    usage: { wallMs: round(p.usage?.wallMs ?? 0), cpuMs: round(p.usage?.cpuMs ?? 0) },
  };
  if (p.usage?.memoryPeakBytes !== undefined) r.usage.memoryPeakBytes = p.usage.memoryPeakBytes;
  if (p.value !== undefined) r.value = p.value;
  if (p.error) r.error = p.error;
  return r;
}

/** A result for a job that never reached a guest (or lost it): no output, a named error. */
export function statusResult(status: Status, name: string, message: string, usage?: Partial<Usage>): RunResult {
  return buildResult({ status, error: { name, message }, usage });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
