// Runs in: the embedding process (the sandbox host process has no sockets or child processes by
// design). ContainerBackend: the Backend that runs Python jobs in hardened containers, started by a
// ContainerRuntime (Docker with gVisor's runsc by default; runtime.ts is the seam for another).
// It owns every guest it starts: warm ones through WarmContainers, a session's in #sessions, the
// rest for one job; `close()` removes them all and waits until they are gone. Session policy (max,
// idle, age, LRU, sizes fixed at start) is the session registry's, above the backends: here a
// session is its guest and its run queue, nothing more.
import type { AdmittedJob } from "../contract/admitted.ts";
import type { Backend, JobIO } from "../contract/backend.ts";
import { DEFAULT_MAX_FS_BYTES, DEFAULT_MEMORY_MB, type Limits } from "../contract/limits.ts";
import { abortedBeforeStart, crashed, rejected, sandboxClosed, type Outcome } from "../contract/outcomes.ts";
import { statusResult, type RunResult } from "../contract/result.ts";
import { DockerRuntime, type DockerRuntimeOptions } from "./docker.ts";
import { runOnConnection } from "./job.ts";
import type { ContainerProfile, ContainerRuntime, RunnerConnection } from "./runtime.ts";
import { WarmContainers } from "./warm.ts";

export interface ContainerBackendOptions {
  /** Guests kept started for the default profile. */
  warm: number;
  /** Limits warm guests are made for; a job with other memory/fs limits gets its own. */
  defaultLimits?: Partial<Pick<Limits, "memoryMb" | "maxFsBytes">>;
}

/** The container's answer to "can you run this job?": Python only (pure; the routing tests check it). */
export function containerAccepts(job: Pick<AdmittedJob, "language">): true | Outcome {
  return job.language === "python"
    ? true
    : rejected("InvalidJob", `backend: the container backend runs Python jobs only, not ${job.language}`);
}

export class ContainerBackend implements Backend {
  readonly name = "container" as const;
  readonly #runtime: ContainerRuntime;
  readonly #profile: ContainerProfile;
  readonly #warm: WarmContainers<RunnerConnection>;
  readonly #sessions = new Map<string, RunnerConnection>();
  /** Jobs of one session run one after the other, in arrival order: the last queued one per id. */
  readonly #queues = new Map<string, Promise<void>>();
  /** Guests taken for a job or a session (the warm pool owns the ones it still holds). */
  readonly #live = new Set<RunnerConnection>();
  readonly #disposals = new Set<Promise<void>>();
  readonly #closing = new AbortController();

  private constructor(runtime: ContainerRuntime, opts: ContainerBackendOptions) {
    this.#runtime = runtime;
    this.#profile = {
      memoryMb: opts.defaultLimits?.memoryMb ?? DEFAULT_MEMORY_MB.python,
      maxFsBytes: opts.defaultLimits?.maxFsBytes ?? DEFAULT_MAX_FS_BYTES,
    };
    this.#warm = new WarmContainers(opts.warm, () => this.#start(this.#profile, true));
  }

  /** Over Docker: throws IsoboxError NO_DOCKER, NO_RUNTIME or NO_IMAGE, saying what to do. */
  static async create(opts: ContainerBackendOptions & DockerRuntimeOptions): Promise<ContainerBackend> {
    return ContainerBackend.over(await DockerRuntime.create(opts), opts);
  }

  /** Over any runtime: removes the orphans of dead embedding processes, then fills the warm pool. */
  static async over(runtime: ContainerRuntime, opts: ContainerBackendOptions): Promise<ContainerBackend> {
    const backend = new ContainerBackend(runtime, opts);
    await runtime.reapOrphans();
    backend.#warm.fill();
    return backend;
  }

  accepts(job: AdmittedJob): true | Outcome {
    return containerAccepts(job);
  }

  run(job: AdmittedJob, io: JobIO): Promise<RunResult> {
    const started = performance.now();
    if (this.#closing.signal.aborted) return Promise.resolve(this.#refused(sandboxClosed(), started));
    // The job stops on the caller's abort and on close() alike.
    const jobIo: JobIO = {
      onOutput: (fd, lines) => io.onOutput(fd, lines),
      onCall: (call) => io.onCall(call),
      stream: io.stream,
      signal: AbortSignal.any([io.signal, this.#closing.signal]),
    };
    if (jobIo.signal.aborted) return Promise.resolve(this.#refused(abortedBeforeStart(), started));
    if (job.session === undefined) return this.#runOnce(job, jobIo, started);
    const session = job.session;
    const prior = this.#queues.get(session) ?? Promise.resolve();
    const run = prior.then(() => this.#runInSession(session, job, jobIo, started));
    const tail = run.then(
      () => {},
      () => {},
    );
    this.#queues.set(session, tail);
    void tail.then(() => {
      if (this.#queues.get(session) === tail) this.#queues.delete(session);
    });
    return run;
  }

  async #runOnce(job: AdmittedJob, io: JobIO, started: number): Promise<RunResult> {
    const conn = await this.#acquire(profileOf(job.limits), io.signal);
    if ("status" in conn) return this.#refused(conn, started);
    try {
      return (await runOnConnection(conn, job, io, started)).result;
    } finally {
      this.#dispose(conn);
      this.#warm.fill();
    }
  }

  async #runInSession(id: string, job: AdmittedJob, io: JobIO, started: number): Promise<RunResult> {
    let conn = this.#sessions.get(id);
    if (conn && !conn.alive) {
      this.#endSessionNow(id);
      conn = undefined;
    }
    if (!conn) {
      // The registry keeps a session's sizes fixed (SessionLimits): this guest is sized for every run of it.
      const acquired = await this.#acquire(profileOf(job.limits), io.signal);
      if ("status" in acquired) return this.#refused(acquired, started);
      conn = acquired;
      this.#sessions.set(id, conn);
    }
    const { result, reusable } = await runOnConnection(conn, job, io, started);
    // Kept until the session registry ends it (idle, age, LRU or endSession), unless this run broke it.
    if (!reusable && this.#sessions.get(id) === conn) this.#endSessionNow(id);
    this.#warm.fill();
    return result;
  }

  /** A warm guest for the default profile, else a freshly started one; an Outcome when none can be had. */
  async #acquire(profile: ContainerProfile, abort: AbortSignal): Promise<RunnerConnection | Outcome> {
    const warm = sameProfile(profile, this.#profile) ? this.#warm.take() : undefined;
    if (warm) {
      this.#live.add(warm);
      return warm;
    }
    try {
      const conn = await this.#start(profile, false);
      this.#live.add(conn);
      if (!abort.aborted) return conn;
      this.#dispose(conn);
      return abortedBeforeStart();
    } catch (e) {
      if (abort.aborted) return abortedBeforeStart();
      return crashed("ContainerUnavailable", `could not start a container: ${(e as Error).message}`);
    }
  }

  /** A started guest, owned by the caller (the warm pool, or #acquire's job through #live). */
  async #start(profile: ContainerProfile, preload: boolean): Promise<RunnerConnection> {
    const conn = await this.#runtime.start({ profile, preload });
    if (this.#closing.signal.aborted) {
      await conn.dispose();
      throw new Error("the sandbox is closed");
    }
    return conn;
  }

  #refused(outcome: Outcome, started: number): RunResult {
    return { ...statusResult(outcome, { wallMs: performance.now() - started }), backend: this.name };
  }

  #dispose(conn: RunnerConnection): void {
    this.#live.delete(conn);
    const p = conn.dispose().finally(() => this.#disposals.delete(p));
    this.#disposals.add(p);
  }

  #endSessionNow(id: string): void {
    const conn = this.#sessions.get(id);
    if (!conn) return;
    this.#sessions.delete(id);
    this.#dispose(conn);
  }

  /** Removes a session's guest once its queued runs are done (its interpreter and files end with it). */
  async endSession(id: string): Promise<void> {
    await this.#queues.get(id);
    this.#endSessionNow(id);
    await Promise.all([...this.#disposals]);
  }

  /** Kills pending jobs (status killed) and removes every guest, waiting until they are gone. */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const id of [...this.#sessions.keys()]) this.#endSessionNow(id);
    await this.#warm.close();
    for (const conn of [...this.#live]) this.#dispose(conn);
    while (this.#disposals.size > 0) await Promise.all([...this.#disposals]);
    await this.#runtime.close?.();
  }
}

function profileOf(limits: Limits): ContainerProfile {
  return { memoryMb: limits.memoryMb, maxFsBytes: limits.maxFsBytes };
}

function sameProfile(a: ContainerProfile, b: ContainerProfile): boolean {
  return a.memoryMb === b.memoryMb && a.maxFsBytes === b.maxFsBytes;
}
