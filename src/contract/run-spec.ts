// Runs in: the embedding process (the container backend) and the sandbox host process (the isolate
// guests). What a guest's runner gets for one run, the same object for every runner: the isolate's
// JavaScript and Python preludes (`start(spec)`, copied in, never a Reference; read field by field,
// own properties only: runner.js `readRunSpec`) and the container's runner.py (as its job line,
// files in base64: containerJobLine). One spec, so a field cannot mean one thing in one runner and
// another in the next, or travel in another position.
import type { AdmittedJob } from "./admitted.ts";
import { MAX_OUTPUT_FILES, valueCapBytes } from "./limits.ts";

export interface GuestRunSpec {
  /** A Python job's source; a JavaScript job's module is compiled and linked by the host instead. */
  code?: string;
  /** The job's input as JSON; absent when it has none. */
  inputJson?: string;
  envJson: string;
  jobId: string;
  /** The largest value the job may return, in bytes of JSON. */
  maxValueBytes: number;
  /** The job's memory cap, for what the host cannot count itself (WebAssembly memory in an isolate). */
  memoryBytes: number;
  /** The job's CPU budget (an isolate's is enforced on the host; a container's runner sets an rlimit). */
  cpuTimeMs: number;
  capabilitiesJson: string;
  /** Written under /home/user before the job's code runs. */
  files: readonly { readonly path: string; readonly bytes: Uint8Array }[];
  maxFsBytes: number;
  /** Output files the runner may hand back. */
  maxFiles: number;
  /** The guest lives on for the session's next run. */
  session: boolean;
}

export function runSpec(job: AdmittedJob, options: { withCode: boolean }): GuestRunSpec {
  const spec: GuestRunSpec = {
    envJson: JSON.stringify(job.env),
    jobId: job.id,
    maxValueBytes: valueCapBytes(job.limits),
    memoryBytes: job.limits.memoryMb * 1024 * 1024,
    cpuTimeMs: job.limits.cpuTimeMs,
    capabilitiesJson: JSON.stringify(job.capabilities),
    files: job.files,
    maxFsBytes: job.limits.maxFsBytes,
    maxFiles: MAX_OUTPUT_FILES,
    session: job.session !== undefined,
  };
  if (options.withCode) spec.code = job.code;
  if (job.inputJson !== undefined) spec.inputJson = job.inputJson;
  return spec;
}

/** The spec as the container runner's job line: one JSON line, each file's bytes in base64. */
export function containerJobLine(spec: GuestRunSpec): string {
  const files = spec.files.map((f) => ({
    path: f.path,
    base64: Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength).toString("base64"),
  }));
  return JSON.stringify({ ...spec, files });
}
