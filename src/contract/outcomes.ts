// Runs in: every process. The outcome catalogue: one function per cause of a non-ok status, used by
// both backends and every layer, so the same cause gives the same `status`, `error.name` and
// wording wherever it is detected (error.name is contract: callers switch on it). The names a
// guest's result may carry are listed in GUEST_ERROR_NAMES and in the README.
import type { GuestError, Status } from "./result.ts";

export interface Outcome {
  status: Status;
  error: GuestError;
}

/** Why a job was refused before it ran (status "rejected"). */
export type RejectionName =
  | "InvalidJob" // the job's shape: a field, a file path, the input
  | "ContainerDisabled" // backend: "container" while the sandbox has none
  | "SessionLimits" // a live session asked for other sizes than it was started with
  | "SessionLanguage" // a live session asked to run another language
  | "SessionBackend" // a live session asked to move to another backend
  | "TooManySessions"; // every live session is busy and the cap is reached

/** Where a job was lost (status "crashed"). */
export type CrashSite = "GuestCrashed" | "WorkerCrashed" | "HostCrashed" | "ContainerCrashed" | "ContainerUnavailable";

/** Every error.name isobox itself puts in a RunResult (a guest's own exceptions keep their names). */
export const GUEST_ERROR_NAMES = [
  "TimeoutError",
  "MemoryError",
  "OutputLimitError",
  "InvalidValue",
  "AbortError",
  "SandboxClosed",
  "ProtocolError",
  "GuestCrashed",
  "WorkerCrashed",
  "HostCrashed",
  "ContainerCrashed",
  "ContainerUnavailable",
  "InvalidJob",
  "ContainerDisabled",
  "SessionLimits",
  "SessionLanguage",
  "SessionBackend",
  "TooManySessions",
] as const;

const outcome = (status: Status, name: string, message: string): Outcome => ({ status, error: { name, message } });
const detailed = (message: string, detail?: string) => (detail ? `${message} (${detail})` : message);

export function wallTimeout(ms: number, detail?: string): Outcome {
  return outcome("timeout", "TimeoutError", detailed(`Job exceeded its wall-clock limit of ${ms} ms`, detail));
}

export function cpuTimeout(ms: number): Outcome {
  return outcome("timeout", "TimeoutError", `Job exceeded its CPU time limit of ${ms} ms`);
}

/** `detail`: what gave it away (a failed allocation, the peak seen, the container's exit). */
export function memoryExceeded(mb: number, detail?: string): Outcome {
  return outcome("memory", "MemoryError", detailed(`Job exceeded its memory limit of ${mb} MB`, detail));
}

export function outputLimit(maxBytes: number): Outcome {
  return outcome("output_limit", "OutputLimitError", `Job wrote more than its ${maxBytes} byte output limit`);
}

export function tooManyOutputFiles(count: number | string, max: number): Outcome {
  return outcome("output_limit", "OutputLimitError", `The job wrote ${count} output files, over the limit of ${max}`);
}

export function outputFilesTooLarge(maxBytes: number): Outcome {
  return outcome("output_limit", "OutputLimitError", `The job's output files are larger than its maxFsBytes of ${maxBytes} bytes`);
}

export function valueTooBig(size: number | string, max: number): Outcome {
  return outcome("output_limit", "OutputLimitError", `The returned value is ${size} bytes of JSON, over the ${max} byte limit`);
}

export function valueTooDeep(max: number): Outcome {
  return outcome("output_limit", "OutputLimitError", `The returned value is nested deeper than ${max} levels`);
}

/** A returned number JSON cannot carry exactly; the same words as the Python runner's (results.py). */
export function valueNotExact(token: string): Outcome {
  const shown = token.length > 40 ? `${token.slice(0, 37)}...` : token;
  return outcome("error", "InvalidValue", `The returned value holds ${shown}, a number JSON cannot carry exactly (return it as a string)`);
}

export function crashed(site: CrashSite, message: string): Outcome {
  return outcome("crashed", site, message);
}

export function killed(message = "The job was aborted"): Outcome {
  return outcome("killed", "AbortError", message);
}

export function abortedBeforeStart(): Outcome {
  return killed("The job was aborted before it started");
}

export function sandboxClosed(): Outcome {
  return outcome("killed", "SandboxClosed", "The sandbox is closed");
}

export function rejected(name: RejectionName, message: string): Outcome {
  return outcome("rejected", name, message);
}

/** The job wrote something onto its runner's channel that no runner writes (a forged frame). */
export function protocolError(what: string): Outcome {
  return outcome("error", "ProtocolError", `the job wrote ${what} onto the runner's channel`);
}

export function sessionMemory(had: number, asked: number): Outcome {
  return rejected(
    "SessionLimits",
    `limits.memoryMb: this session's guest was started with ${had} MB and keeps it for every run (asked for ${asked}); end the session with endSession(id) to change it`,
  );
}

export function sessionFs(had: number, asked: number): Outcome {
  return rejected(
    "SessionLimits",
    `limits.maxFsBytes: this session's container was started with ${had} bytes of files and keeps it for every run (asked for ${asked}); end the session with endSession(id) to change it`,
  );
}
