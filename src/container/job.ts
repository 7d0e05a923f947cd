// Runs in: the embedding process. One job on one RunnerConnection: the job line in, frames out, under the wall clock, output and file
// caps, and the result built from what came back (or from how the container ended).
import type { RunResult } from "../contract/result.ts";
import { buildResult } from "../contract/result.ts";
import type { Limits } from "../contract/limits.ts";
import { mimeTypeFor } from "../vfs/mime.ts";
import { MAX_OUTPUT_FILES } from "../vfs/harvest.ts";
import { MAX_CALLS_IN_FLIGHT, type CallAnswer, type CapabilityCall } from "../contract/calls.ts";
import type { WireJob } from "../contract/admitted.ts";
import type { Frame, ResultFrame } from "./frames.ts";
import { describeExit, type ExitInfo, type RunnerConnection } from "./runtime.ts";
import { normaliseOutputPath, normaliseRelativePath } from "./paths.ts";

export interface ContainerJob {
  id: string;
  code: string;
  inputJson?: string;
  files: Record<string, string | Uint8Array>;
  env: Record<string, string>;
  limits: Limits;
  session?: string;
  /** Names of the capabilities this job was given (the handlers stay in the embedding process). */
  capabilities?: WireJob["capabilities"];
  /** Answers one capability call (a CallDispatcher's): budget, timeout and validation are its. */
  onCall?: (call: CapabilityCall) => Promise<CallAnswer>;
}

export type OnOut = (fd: 1 | 2, lines: string[]) => void;

/** Most output files one job returns (threat: a million empty files): the isolate's cap, src/vfs/harvest.ts. */
export { MAX_OUTPUT_FILES };
/** Exit status of a process killed by SIGXCPU (the runner's CPU rlimit): reported as timeout. */
const SIGXCPU_EXIT = 128 + 24;
const SIGKILL_EXIT = 128 + 9;

export function maxValueBytes(limits: Limits): number {
  return Math.max(16 * 1024 * 1024, limits.maxOutputBytes);
}

/** The job line for the runner, or a message naming a bad file path. */
export function jobLine(job: ContainerJob): string | { invalid: string } {
  const files: Record<string, string> = {};
  for (const [name, content] of Object.entries(job.files)) {
    const path = normaliseRelativePath(name);
    if (!path) return { invalid: `files: ${JSON.stringify(name)} is not a relative path under /home/user` };
    files[path] = Buffer.from(typeof content === "string" ? Buffer.from(content, "utf8") : content).toString("base64");
  }
  return JSON.stringify({
    code: job.code,
    ...(job.inputJson !== undefined ? { input: JSON.parse(job.inputJson) } : {}),
    files,
    env: job.env,
    cpuTimeMs: job.limits.cpuTimeMs,
    maxValueBytes: maxValueBytes(job.limits),
    maxFsBytes: job.limits.maxFsBytes,
    maxFiles: MAX_OUTPUT_FILES,
    session: job.session !== undefined,
    capabilities: job.capabilities ?? { bindings: [], mcp: {}, fetch: false },
  });
}

type Ending =
  | { kind: "result"; frame: ResultFrame }
  | { kind: "status"; status: "timeout" | "killed" | "output_limit" | "error"; name: string; message: string }
  | { kind: "exit"; exit: ExitInfo };

/** Output text under maxOutputBytes, streamed per line. */
class OutputText {
  text = { 1: "", 2: "" };
  #bytes = 0;
  readonly max: number;
  readonly onOut: OnOut;
  constructor(max: number, onOut: OnOut) {
    this.max = max;
    this.onOut = onOut;
  }
  /** false once the cap is crossed (what fits is kept). */
  add(fd: 1 | 2, lines: string[], open = false): boolean {
    const kept: string[] = [];
    for (const [i, line] of lines.entries()) {
      const text = open && i === lines.length - 1 ? line : line + "\n";
      const size = Buffer.byteLength(text);
      if (this.#bytes + size > this.max) {
        const room = Buffer.from(text).subarray(0, this.max - this.#bytes).toString().replace(/\uFFFD$/, "");
        this.text[fd] += room;
        this.#bytes = this.max;
        if (kept.length) this.#emit(fd, kept);
        return false;
      }
      this.#bytes += size;
      this.text[fd] += text;
      kept.push(line);
    }
    this.#emit(fd, kept);
    return true;
  }
  #emit(fd: 1 | 2, lines: string[]): void {
    try {
      if (lines.length) this.onOut(fd, lines);
    } catch { /* the caller's callback bug is not the guest's */ }
  }
}

/** Files assembled from chunk frames, capped by count and total bytes. */
class OutputFiles {
  readonly files: RunResult["files"] = [];
  #open = new Map<string, Buffer[]>();
  #bytes = 0;
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }
  /** A message when a cap is crossed. */
  add(raw: string, data: string, end: boolean): string | undefined {
    const path = normaliseOutputPath(raw);
    const chunk = Buffer.from(data, "base64");
    this.#bytes += chunk.length;
    if (this.#bytes > this.maxBytes) return `output files larger than ${this.maxBytes} bytes in total`;
    if (!path) return undefined; // a forged name outside output/: dropped, never returned
    const parts = this.#open.get(path) ?? [];
    parts.push(chunk);
    this.#open.set(path, parts);
    if (end) {
      this.#open.delete(path);
      if (this.files.length >= MAX_OUTPUT_FILES) return `more than ${MAX_OUTPUT_FILES} output files`;
      this.files.push({ path, bytes: new Uint8Array(Buffer.concat(parts)), mimeType: mimeTypeFor(path) });
    }
    return undefined;
  }
}

/**
 * Run one job on a guest that is ready. Never throws for what the guest does. The caller disposes
 * the guest unless `keep` is true in the answer (a session container after a clean result).
 */
export async function runOnGuest(guest: RunnerConnection, job: ContainerJob, line: string, onOut: OnOut, signal: AbortSignal | undefined, started: number): Promise<{ result: RunResult; keep: boolean }> {
  const out = new OutputText(job.limits.maxOutputBytes, onOut);
  const files = new OutputFiles(job.limits.maxFsBytes);
  let settle!: (e: Ending) => void;
  let ended = false;
  const ending = new Promise<Ending>((resolve) => { settle = (e) => { ended = true; resolve(e); }; });
  let inFlight = 0;
  const answer = (id: number, a: CallAnswer) => {
    // Nothing goes to a runner after its job ended: a session container's next run must not get
    // the answers of this one (its runner also drops answers to ids it is not waiting for).
    if (ended) return;
    try {
      guest.send(JSON.stringify({ t: "answer", id, answer: a }));
    } catch { /* the container's stream is gone: its exit ends the job */ }
  };
  const onCall = (f: Extract<Frame, { t: "call" }>) => {
    // Threat: a job writing call frames in a loop; the dispatcher's budget counts them, this bounds
    // how many handlers run at once (the isolate's cap: threads of the job may each have a call waiting).
    if (!job.onCall) return answer(f.id, { ok: false, name: "BindingError", message: "No capabilities were given to this job" });
    if (inFlight >= MAX_CALLS_IN_FLIGHT) return answer(f.id, { ok: false, name: "BindingError", message: `Too many binding calls in flight: at most ${MAX_CALLS_IN_FLIGHT} at once` });
    inFlight++;
    job.onCall({ callId: f.id, kind: f.kind, name: f.name, argsJson: f.args }).then(
      (a) => { inFlight--; answer(f.id, a); },
      (e: unknown) => { inFlight--; answer(f.id, { ok: false, name: "BindingError", message: e instanceof Error ? e.message : "The host handler failed" }); },
    );
  };
  const onFrame = (f: Frame) => {
    if (f.t === "call") onCall(f);
    else if (f.t === "out" && !out.add(f.fd, f.lines, f.open)) settle({ kind: "status", status: "output_limit", name: "OutputLimit", message: `stdout+stderr over maxOutputBytes (${job.limits.maxOutputBytes} bytes)` });
    else if (f.t === "file") {
      const over = files.add(f.path, f.data, f.end);
      if (over) settle({ kind: "status", status: "output_limit", name: "OutputLimit", message: over });
    } else if (f.t === "result") settle({ kind: "result", frame: f });
    else if (f.t === "ready") settle({ kind: "status", status: "error", name: "ProtocolError", message: "the job wrote a forged frame onto the runner's channel" });
  };
  const detach = guest.listen(onFrame, (why) => settle({ kind: "status", status: "error", name: "ProtocolError", message: `the job wrote ${why} onto the runner's channel` }), maxValueBytes(job.limits));
  // The wall clock runs from the moment the job is handed to the runner: a cold container's start
  // is the backend's time, not the job's (it still shows in usage.wallMs).
  const timer = setTimeout(() => settle({ kind: "status", status: "timeout", name: "TimeoutError", message: `wall-clock limit of ${job.limits.timeoutMs} ms exceeded` }), job.limits.timeoutMs);
  const onAbort = () => settle({ kind: "status", status: "killed", name: "AbortError", message: "The job was aborted" });
  signal?.addEventListener("abort", onAbort, { once: true });
  void guest.exited.then((exit) => settle({ kind: "exit", exit }));
  try {
    guest.send(line);
    const end = await ending;
    if (end.kind !== "result") await guest.kill();
    const parts = { stdout: out.text[1], stderr: out.text[2], backend: "container" as const, usage: { wallMs: performance.now() - started } };
    if (end.kind === "status") return { result: buildResult({ ...parts, status: end.status, error: { name: end.name, message: end.message }, files: files.files }), keep: false };
    if (end.kind === "exit") return { result: buildResult({ ...parts, ...exitStatus(end.exit) }), keep: false };
    const r = fromResultFrame(end.frame, job.limits);
    return { result: buildResult({ ...parts, ...r, files: files.files, usage: { ...parts.usage, cpuMs: end.frame.cpuMs, memoryPeakBytes: end.frame.maxRssBytes } }), keep: r.status === "ok" || r.status === "error" };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    detach();
  }
}

function fromResultFrame(f: ResultFrame, limits: Limits): Pick<Parameters<typeof buildResult>[0], "status" | "value" | "error"> {
  switch (f.kind) {
    case "ok":
      return f.value === undefined ? { status: "ok" } : { status: "ok", value: f.value as never };
    case "error":
      return { status: "error", error: f.error ?? { name: "Error", message: "the job failed" } };
    case "memory":
      return { status: "memory", error: { name: "MemoryError", message: `memory limit of ${limits.memoryMb} MB exceeded` } };
    case "too_big":
      return { status: "output_limit", error: { name: "OutputLimit", message: `the value is ${f.size ?? "?"} bytes of JSON, over the ${maxValueBytes(limits)}-byte limit` } };
    case "output_limit":
      return { status: "output_limit", error: { name: "OutputLimit", message: f.message ?? "output files over the limit" } };
  }
}

/** The container ended before its result: OOM, the CPU rlimit, or a crash. */
function exitStatus(exit: ExitInfo): Pick<Parameters<typeof buildResult>[0], "status" | "error"> {
  if ("lost" in exit) return { status: "crashed", error: { name: "ContainerCrashed", message: describeExit(exit) } };
  // gVisor and the kernel both answer a cgroup OOM with SIGKILL; Docker's OOMKilled flag is not
  // always set under runsc, so an unexplained SIGKILL counts as memory too.
  if (exit.oomKilled || exit.code === SIGKILL_EXIT) return { status: "memory", error: { name: "MemoryError", message: `the container was killed for memory (${describeExit(exit)})` } };
  if (exit.code === SIGXCPU_EXIT) return { status: "timeout", error: { name: "TimeoutError", message: "CPU time limit exceeded" } };
  return { status: "crashed", error: { name: "ContainerCrashed", message: `the container died before answering (${describeExit(exit)})` } };
}
