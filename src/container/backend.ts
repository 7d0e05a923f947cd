// ContainerBackend: runs Python jobs in hardened Docker containers (gVisor's runsc by default), in
// the embedding process (the sandbox host process has no sockets or child processes by design).
// It owns every container it starts: warm ones through WarmContainers, session ones in #sessions,
// the rest for one job; `close()` removes them all and waits until they are gone.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import Docker from "dockerode";
import { statusResult } from "../contract/result.ts";
import type { AdmittedJob } from "../contract/admitted.ts";
import type { Backend, JobIO } from "../contract/backend.ts";
import { abortedBeforeStart, crashed, rejected, sandboxClosed, sessionFs, sessionMemory, type Outcome } from "../contract/outcomes.ts";
import { DEFAULT_MAX_FS_BYTES, DEFAULT_MEMORY_MB, type Limits } from "../contract/limits.ts";
import { type RunResult } from "../contract/result.ts";
import { ContainerGuest } from "./guest.ts";
import type { ContainerProfile } from "./hardening.ts";
import { defaultImage } from "./image.ts";
import { jobLine, runOnGuest, type ContainerJob, type OnOut } from "./job.ts";
import { WarmContainers } from "./warm.ts";

export type { ContainerJob } from "./job.ts";

export interface ContainerBackendOptions {
  image?: string;
  runtime?: "runsc" | "runc";
  socketPath?: string;
  warm: number;
  /** Limits warm containers are made for; a job with other memory/fs limits gets its own. */
  defaultLimits?: Partial<Pick<Limits, "memoryMb" | "maxFsBytes">>;
}

const LABEL = "isobox.container";

interface Session {
  guest: ContainerGuest;
  profile: ContainerProfile;
}

/** The container's answer to "can you run this job?": Python only (pure; the routing tests check it). */
export function containerAccepts(job: Pick<AdmittedJob, "language">): true | Outcome {
  return job.language === "python" ? true : rejected("InvalidJob", `backend: the container backend runs Python jobs only, not ${job.language}`);
}

export class ContainerBackend implements Backend {
  readonly name = "container" as const;
  readonly image: string;
  readonly runtime: "runsc" | "runc";
  readonly #docker: Docker;
  readonly #owner = randomUUID();
  readonly #profile: ContainerProfile;
  readonly #warm: WarmContainers;
  readonly #sessions = new Map<string, Session>();
  /** Jobs of one session run one after the other, in arrival order: the last queued one per id. */
  readonly #queues = new Map<string, Promise<void>>();
  readonly #live = new Set<ContainerGuest>();
  readonly #disposals = new Set<Promise<void>>();
  readonly #closing = new AbortController();

  private constructor(docker: Docker, image: string, runtime: "runsc" | "runc", opts: ContainerBackendOptions) {
    this.#docker = docker;
    this.image = image;
    this.runtime = runtime;
    this.#profile = {
      memoryMb: opts.defaultLimits?.memoryMb ?? DEFAULT_MEMORY_MB.python,
      maxFsBytes: opts.defaultLimits?.maxFsBytes ?? DEFAULT_MAX_FS_BYTES,
    };
    this.#warm = new WarmContainers(opts.warm, () => this.#start(this.#profile, true));
  }

  /** Connects to the daemon and checks the image and runtime; throws a message saying what to do. */
  static async create(opts: ContainerBackendOptions): Promise<ContainerBackend> {
    const socketPath = opts.socketPath ?? "/var/run/docker.sock";
    const docker = new Docker({ socketPath });
    const runtime = opts.runtime ?? "runsc";
    const image = opts.image ?? defaultImage();
    let info: { Runtimes?: Record<string, unknown> };
    try {
      info = (await docker.info()) as typeof info;
    } catch (e) {
      throw new Error(`isobox: no Docker daemon at ${socketPath} (${(e as Error).message}); the container backend needs one`);
    }
    if (!info.Runtimes?.[runtime]) throw new Error(`isobox: the Docker daemon has no "${runtime}" runtime (install gVisor and register runsc in /etc/docker/daemon.json)`);
    try {
      await docker.getImage(image).inspect();
    } catch {
      throw new Error(`isobox: container image ${image} not found: run \`npm run build:image\``);
    }
    if (runtime === "runc") {
      console.warn("isobox: WARNING: the container backend runs guests under runc, not gVisor: guest code shares the host kernel directly. Use runsc for untrusted code.");
    }
    const backend = new ContainerBackend(docker, image, runtime, opts);
    await backend.#reapOrphans();
    backend.#warm.fill();
    return backend;
  }

  accepts(job: AdmittedJob): true | Outcome {
    return containerAccepts(job);
  }

  run(job: AdmittedJob, io: JobIO): Promise<RunResult> {
    return this.#run({
      id: job.id,
      capabilities: job.capabilities,
      onCall: io.onCall,
      code: job.code,
      files: Object.fromEntries(job.files.map((f) => [f.path, f.bytes])),
      env: { ...job.env },
      limits: job.limits,
      ...(job.inputJson !== undefined ? { inputJson: job.inputJson } : {}),
      ...(job.session !== undefined ? { session: job.session } : {}),
    }, io.onOutput, io.signal);
  }

  async #run(job: ContainerJob, onOut: OnOut, signal?: AbortSignal): Promise<RunResult> {
    const started = performance.now();
    const wall = () => ({ wallMs: performance.now() - started });
    if (this.#closing.signal.aborted) return container(statusResult(sandboxClosed(), wall()));
    const line = jobLine(job);
    if (typeof line !== "string") return container(statusResult(rejected("InvalidJob", line.invalid), wall()));
    const abort = signal ? AbortSignal.any([signal, this.#closing.signal]) : this.#closing.signal;
    if (abort.aborted) return container(statusResult(abortedBeforeStart(), wall()));
    if (job.session === undefined) return this.#runOnce(job, line, onOut, abort, started);
    const session = job.session;
    const prior = this.#queues.get(session) ?? Promise.resolve();
    const run = prior.then(() => this.#runInSession(session, job, line, onOut, abort, started));
    const tail = run.then(() => {}, () => {});
    this.#queues.set(session, tail);
    void tail.then(() => { if (this.#queues.get(session) === tail) this.#queues.delete(session); });
    return run;
  }

  async #runOnce(job: ContainerJob, line: string, onOut: OnOut, abort: AbortSignal, started: number): Promise<RunResult> {
    const profile = profileOf(job.limits);
    const guest = await this.#acquire(profile, abort);
    if (!(guest instanceof ContainerGuest)) return container({ ...guest, usage: { ...guest.usage, wallMs: performance.now() - started } });
    try {
      return (await runOnGuest(guest, job, line, onOut, abort, started)).result;
    } finally {
      this.#dispose(guest);
      this.#warm.fill();
    }
  }

  async #runInSession(id: string, job: ContainerJob, line: string, onOut: OnOut, abort: AbortSignal, started: number): Promise<RunResult> {
    let s = this.#sessions.get(id);
    if (s && !s.guest.alive) {
      this.#endSessionNow(id);
      s = undefined;
    }
    if (s && !sameProfile(s.profile, profileOf(job.limits))) {
      // The container's memory cgroup and tmpfs were sized at start; runsc cannot update them.
      const asked = profileOf(job.limits);
      return container(statusResult(s.profile.memoryMb !== asked.memoryMb
        ? sessionMemory(s.profile.memoryMb, asked.memoryMb)
        : sessionFs(s.profile.maxFsBytes, asked.maxFsBytes)));
    }
    if (!s) {
      const profile = profileOf(job.limits);
      const guest = await this.#acquire(profile, abort);
      if (!(guest instanceof ContainerGuest)) return container(guest);
      s = { guest, profile };
      this.#sessions.set(id, s);
    }
    const { result, keep } = await runOnGuest(s.guest, job, line, onOut, abort, started);
    // Kept until the session registry ends it (idle, age, LRU or endSession), unless this run broke it.
    if (!(keep && s.guest.alive) && this.#sessions.get(id) === s) this.#endSessionNow(id);
    this.#warm.fill();
    return result;
  }

  /** A warm guest for the default profile, else a freshly started one; a RunResult when none can be had. */
  async #acquire(profile: ContainerProfile, abort: AbortSignal): Promise<ContainerGuest | RunResult> {
    const warm = sameProfile(profile, this.#profile) ? this.#warm.take() : undefined;
    if (warm) {
      this.#live.add(warm);
      return warm;
    }
    try {
      const guest = await this.#start(profile, false);
      if (abort.aborted) {
        this.#dispose(guest);
        return statusResult(abortedBeforeStart());
      }
      return guest;
    } catch (e) {
      if (abort.aborted) return statusResult(abortedBeforeStart());
      return statusResult(crashed("ContainerUnavailable", `could not start a container: ${(e as Error).message}`));
    }
  }

  async #start(profile: ContainerProfile, preload: boolean): Promise<ContainerGuest> {
    const labels = { [LABEL]: "1", "isobox.owner": this.#owner, "isobox.pid": String(process.pid), "isobox.host": hostname() };
    const guest = await ContainerGuest.start(this.#docker, { image: this.image, runtime: this.runtime, profile, labels, preload });
    if (this.#closing.signal.aborted) {
      await guest.dispose();
      throw new Error("the sandbox is closed");
    }
    this.#live.add(guest);
    return guest;
  }

  #dispose(guest: ContainerGuest): void {
    this.#live.delete(guest);
    const p = guest.dispose().finally(() => this.#disposals.delete(p));
    this.#disposals.add(p);
  }

  #endSessionNow(id: string): void {
    const s = this.#sessions.get(id);
    if (!s) return;
    this.#sessions.delete(id);
    this.#dispose(s.guest);
  }

  /** Remove a session's container (its interpreter and files end with it). */
  async endSession(id: string): Promise<void> {
    await this.#queues.get(id);
    this.#endSessionNow(id);
    await Promise.all([...this.#disposals]);
  }

  /** Containers left by an embedding process that died (same host, pid gone). */
  async #reapOrphans(): Promise<void> {
    const list = await this.#docker.listContainers({ all: true, filters: { label: [`${LABEL}=1`, `isobox.host=${hostname()}`] } }).catch(() => []);
    await Promise.all(list.filter((c) => !pidAlive(Number(c.Labels["isobox.pid"]))).map((c) => this.#docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
  }

  /** Kills pending jobs (status killed) and removes every container, waiting until they are gone. */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const id of [...this.#sessions.keys()]) this.#endSessionNow(id);
    await this.#warm.close();
    for (const g of [...this.#live]) this.#dispose(g);
    while (this.#disposals.size > 0) await Promise.all([...this.#disposals]);
  }
}

function profileOf(limits: Limits): ContainerProfile {
  return { memoryMb: limits.memoryMb, maxFsBytes: limits.maxFsBytes };
}

function sameProfile(a: ContainerProfile, b: ContainerProfile): boolean {
  return a.memoryMb === b.memoryMb && a.maxFsBytes === b.maxFsBytes;
}

function container(r: RunResult): RunResult {
  return { ...r, backend: "container" };
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
