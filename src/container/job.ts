// Runs in: the embedding process. One job on one RunnerConnection: the job line in, frames out, under
// the wall clock and the output, value and file caps, with capability calls relayed through the one
// CallRelay, and the result built by the one result builder from what came back (or from how the
// container ended). The same rules as an isolate's job, from the same implementations.
import type { AdmittedJob } from "../contract/admitted.ts";
import type { JobIO } from "../contract/backend.ts";
import { valueCapBytes } from "../contract/limits.ts";
import { abortedBeforeStart, killed, outputLimit, protocolError, wallTimeout, type Outcome } from "../contract/outcomes.ts";
import { buildResult, type RunResult } from "../contract/result.ts";
import { CallRelay } from "../calls/relay.ts";
import { containerJobLine, runSpec } from "../contract/run-spec.ts";
import { exitOutcome, fromResultFrame } from "./endings.ts";
import type { Frame, ResultFrame } from "./frames.ts";
import { OutputFiles, OutputText } from "./output.ts";
import type { ExitInfo, RunnerConnection } from "./runtime.ts";

type Ending =
  { kind: "result"; frame: ResultFrame; lineBytes: number } | { kind: "stopped"; outcome: Outcome } | { kind: "exit"; exit: ExitInfo };

/** What a run leaves: its result, and whether the guest may serve the session's next run. */
export interface RunOutcome {
  result: RunResult;
  /** Only after a clean result (ok or error) of a guest still alive; anything else may have broken it. */
  reusable: boolean;
}

/**
 * Runs one job on a connection whose runner is ready. Never throws for what the guest does. The
 * caller disposes the connection unless the answer says it is reusable (a session's guest).
 * `started`: when the job reached the backend (its usage.wallMs counts from there); `io.signal`
 * aborts the job (the caller's abort, or the backend closing).
 */
export function runOnConnection(conn: RunnerConnection, job: AdmittedJob, io: JobIO, started: number): Promise<RunOutcome> {
  return new ContainerRun(conn, job, io).run(started);
}

class ContainerRun {
  readonly #conn: RunnerConnection;
  readonly #job: AdmittedJob;
  readonly #signal: AbortSignal;
  readonly #out: OutputText;
  readonly #files: OutputFiles;
  readonly #calls: CallRelay;
  readonly #ending: Promise<Ending>;
  #settle!: (e: Ending) => void;
  #ended = false;

  constructor(conn: RunnerConnection, job: AdmittedJob, io: JobIO) {
    this.#conn = conn;
    this.#job = job;
    this.#signal = io.signal;
    this.#out = new OutputText(job.limits.maxOutputBytes, io);
    this.#files = new OutputFiles(job.limits.maxFsBytes);
    // Threat: a job writing call frames in a loop; the dispatcher's budget counts them, the relay
    // bounds how many wait at once, and drops every answer once this run ended: a session guest's
    // next run must never get this one's answers (its runner also drops ids it is not waiting for).
    this.#calls = new CallRelay({
      forward: (call) => io.onCall(call),
      reply: (id, answer) => conn.send(JSON.stringify({ t: "answer", id, answer })),
    });
    this.#ending = new Promise<Ending>((resolve) => {
      this.#settle = (e) => {
        if (this.#ended) return;
        this.#ended = true;
        this.#calls.close();
        resolve(e);
      };
    });
  }

  async run(started: number): Promise<RunOutcome> {
    // Aborted while it waited (behind a session's earlier run, or for a guest): the guest never saw
    // it, so a session keeps its state.
    if (this.#signal.aborted) {
      const usage = { wallMs: performance.now() - started };
      return { result: buildResult({ ...abortedBeforeStart(), backend: "container", usage }), reusable: this.#conn.alive };
    }
    const { limits } = this.#job;
    const detach = this.#conn.listen(
      (f, n) => this.#onFrame(f, n),
      (why) => this.#stop(protocolError(why)),
      valueCapBytes(limits),
    );
    // The wall clock runs from the moment the job is handed to the runner: a cold container's start
    // is the backend's time, not the job's (it still shows in usage.wallMs).
    const timer = setTimeout(() => this.#stop(wallTimeout(limits.timeoutMs)), limits.timeoutMs);
    const onAbort = () => this.#stop(killed());
    this.#signal.addEventListener("abort", onAbort, { once: true });
    // A session's connection outlives this run: its exit listener must not keep the run (its job,
    // files and output) alive until the container ends, so it holds only this box, emptied after.
    const onExit: { settle?: (exit: ExitInfo) => void } = { settle: (exit) => this.#settle({ kind: "exit", exit }) };
    void this.#conn.exited.then((exit) => onExit.settle?.(exit));
    try {
      this.#conn.send(containerJobLine(runSpec(this.#job, { withCode: true })));
      const end = await this.#ending;
      if (end.kind !== "result") await this.#conn.kill();
      return this.#result(end, performance.now() - started);
    } finally {
      clearTimeout(timer);
      this.#signal.removeEventListener("abort", onAbort);
      delete onExit.settle;
      detach();
    }
  }

  #stop(outcome: Outcome): void {
    this.#settle({ kind: "stopped", outcome });
  }

  #onFrame(f: Frame, lineBytes: number): void {
    if (this.#ended) return; // the job is over: nothing more is kept or relayed
    switch (f.t) {
      case "call":
        return this.#calls.relay({ callId: f.id, kind: f.kind, name: f.name, argsJson: f.args });
      case "out":
        if (!this.#out.add(f.fd, f.lines, f.open)) this.#stop(outputLimit(this.#job.limits.maxOutputBytes));
        return;
      case "file": {
        const over = this.#files.add(f.path, f.data, f.end);
        if (over) this.#stop(over);
        return;
      }
      case "result":
        return this.#settle({ kind: "result", frame: f, lineBytes });
      case "ready": // only a runner starting up says ready: this one was written by the job
        return this.#stop(protocolError("a forged frame"));
    }
  }

  /** The RunResult of how the run ended; files only with a clean result, as on the isolate. */
  #result(end: Ending, wallMs: number): RunOutcome {
    const parts = { stdout: this.#out.text[1], stderr: this.#out.text[2], backend: "container" as const, usage: { wallMs } };
    if (end.kind === "stopped") return { result: buildResult({ ...parts, ...end.outcome }), reusable: false };
    if (end.kind === "exit") return { result: buildResult({ ...parts, ...exitOutcome(end.exit, this.#job.limits) }), reusable: false };
    const usage = { wallMs, cpuMs: end.frame.cpuMs, memoryPeakBytes: end.frame.maxRssBytes };
    const ended = fromResultFrame(end.frame, end.lineBytes, this.#job.limits);
    if (ended.status !== "ok" && ended.status !== "error") return { result: buildResult({ ...parts, ...ended, usage }), reusable: false };
    const files = this.#files.harvest();
    if (!Array.isArray(files)) return { result: buildResult({ ...parts, ...files, usage }), reusable: false };
    return { result: buildResult({ ...parts, ...ended, files, usage }), reusable: this.#conn.alive };
  }
}
