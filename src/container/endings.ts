// Runs in: the embedding process. How a container job's end becomes a status, through the outcome
// catalogue (contract/outcomes.ts), so the same cause reads the same on both backends: the runner's
// result frame, or how the container ended when no result came (the kernel's SIGKILL for memory,
// the runner's CPU rlimit, a crash). Everything in a result frame is the job's to forge; it can
// only ever misreport its own job.
import type { Json } from "../contract/job.ts";
import { valueCapBytes, type Limits } from "../contract/limits.ts";
import {
  cpuTimeout,
  crashed,
  memoryExceeded,
  outputFilesTooLarge,
  tooManyOutputFiles,
  valueTooBig,
  type Outcome,
} from "../contract/outcomes.ts";
import type { ResultParts } from "../contract/result.ts";
import { MAX_OUTPUT_FILES } from "../contract/limits.ts";
import type { ResultFrame } from "./frames.ts";
import { describeExit, type ExitInfo } from "./runtime.ts";

/** Exit status of a process killed by SIGXCPU (the runner's CPU rlimit): reported as timeout. */
const SIGXCPU_EXIT = 128 + 24;
const SIGKILL_EXIT = 128 + 9;

export type Ended = Pick<ResultParts, "status" | "value" | "error">;

/** The runner's result, as the isolate's envelope reading would report it. `lineBytes`: the frame's size. */
export function fromResultFrame(f: ResultFrame, lineBytes: number, limits: Limits): Ended {
  const cap = valueCapBytes(limits);
  switch (f.kind) {
    case "ok": {
      if (f.value === undefined) return { status: "ok" };
      // The runner measured the value against the cap, but the job can forge the frame: a frame
      // within the cap holds a value within it; a longer one is measured here (threat: a forged
      // result frame returning more than the value cap).
      const size = lineBytes > cap ? Buffer.byteLength(JSON.stringify(f.value)) : 0;
      return size > cap ? valueTooBig(size, cap) : { status: "ok", value: f.value as Json };
    }
    case "error":
      return { status: "error", error: f.error ?? { name: "Error", message: "The guest returned a malformed result" } };
    case "memory":
      return memoryExceeded(limits.memoryMb);
    case "too_big":
      return valueTooBig(f.size ?? "?", cap);
    case "output_limit":
      return runnerFileLimit(f.message, limits);
  }
}

/** The runner's own file caps (runner.py `harvest`), in the catalogue's words. */
function runnerFileLimit(message: string | undefined, limits: Limits): Outcome {
  return message?.startsWith("more than")
    ? tooManyOutputFiles(`more than ${MAX_OUTPUT_FILES}`, MAX_OUTPUT_FILES)
    : outputFilesTooLarge(limits.maxFsBytes);
}

/** The container ended before its result: out of memory, past its CPU time, or crashed. */
export function exitOutcome(exit: ExitInfo, limits: Limits): Outcome {
  if ("lost" in exit) return crashed("ContainerCrashed", describeExit(exit));
  // gVisor and the kernel both answer a cgroup OOM with SIGKILL; Docker's OOMKilled flag is not
  // always set under runsc, so an unexplained SIGKILL counts as memory too.
  if (exit.oomKilled || exit.code === SIGKILL_EXIT)
    return memoryExceeded(limits.memoryMb, `the container was killed: ${describeExit(exit)}`);
  if (exit.code === SIGXCPU_EXIT) return cpuTimeout(limits.cpuTimeMs);
  return crashed("ContainerCrashed", `the container died before answering (${describeExit(exit)})`);
}
