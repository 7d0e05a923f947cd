// createSandbox / Sandbox: the public door. Everything is validated here; a job that cannot run is
// answered with a RunResult (rejected), and only API misuse (bad sandbox options) throws.
import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import { SandboxHost } from "../host/supervisor.ts";
import type { WireJob } from "../host/protocol.ts";
import { buildResult, statusResult } from "./result.ts";
import {
  DEFAULT_MAX_FS_BYTES, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_MS, JobSchema, MAX_INPUT_BYTES,
  SandboxOptionsSchema, type Job, type Language, type Limits, type RunResult, type SandboxOptions,
} from "./schemas.ts";
import { transpileTypeScript } from "./typescript.ts";
import { ensurePythonSnapshot, pythonSnapshotFile } from "../python/snapshot-file.ts";
import { describeIssue } from "./issues.ts";
import { ContainerBackend } from "../container/backend.ts";
import { routeJob } from "../container/routing.ts";

export interface Sandbox {
  run(job: Job): Promise<RunResult>;
  close(): Promise<void>;
  /** Diagnostics: the pid of the sandbox host process (changes after a crash restart). */
  readonly hostPid: number;
}

const DEFAULT_WARM_PER_THREAD = 2;
const FILENAMES = { javascript: "main.js", typescript: "main.ts", python: "main.py" } as const;

export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const parsed = SandboxOptionsSchema.safeParse(options);
  if (!parsed.success) throw new TypeError(`isobox: invalid sandbox options: ${describeIssue(parsed.error)}`);
  const sandbox = new IsoboxSandbox(parsed.data);
  await sandbox.started;
  return sandbox;
}

class IsoboxSandbox implements Sandbox {
  readonly #opts: ReturnType<typeof SandboxOptionsSchema.parse>;
  readonly #host: SandboxHost;
  /** Present when `container.enabled`: runs escalated Python jobs (src/container/). */
  #container: ContainerBackend | undefined;
  #closed = false;
  readonly started: Promise<void>;

  constructor(opts: ReturnType<typeof SandboxOptionsSchema.parse>) {
    this.#opts = opts;
    const threads = opts.concurrency ?? availableParallelism();
    this.#host = new SandboxHost({
      threads,
      warmJavascript: opts.warm?.javascript ?? threads * DEFAULT_WARM_PER_THREAD,
      defaultMemoryMb: opts.limits?.memoryMb ?? DEFAULT_MEMORY_MB.javascript,
      warmPython: opts.warm?.python ?? 0,
      defaultPythonMemoryMb: opts.limits?.memoryMb ?? DEFAULT_MEMORY_MB.python,
      pythonSnapshot: pythonSnapshotFile(),
    });
    this.started = Promise.all([this.#host.ready, this.#startContainer(opts).catch(async (e: Error) => {
      await this.#host.ready.catch(() => {});
      await this.#host.close();
      throw e; // no daemon, runtime or image: a setup error, said before any job runs
    })]).then(() => {});
    if ((opts.warm?.python ?? 0) > 0) ensurePythonSnapshot();
  }

  async #startContainer(opts: ReturnType<typeof SandboxOptionsSchema.parse>): Promise<void> {
    if (!opts.container?.enabled) return;
    const { image, runtime, socketPath } = opts.container;
    this.#container = await ContainerBackend.create({
      image, runtime, socketPath,
      warm: opts.warm?.container ?? 1,
      defaultLimits: { memoryMb: opts.limits?.memoryMb ?? DEFAULT_MEMORY_MB.python, maxFsBytes: opts.limits?.maxFsBytes ?? DEFAULT_MAX_FS_BYTES },
    });
  }

  get hostPid(): number {
    return this.#host.pid;
  }

  #limitsFor(language: Language, job: Partial<Limits> | undefined): Limits {
    const merged = { ...this.#opts.limits, ...job };
    const timeoutMs = merged.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return {
      timeoutMs,
      cpuTimeMs: merged.cpuTimeMs ?? timeoutMs,
      memoryMb: merged.memoryMb ?? DEFAULT_MEMORY_MB[language],
      maxOutputBytes: merged.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      maxFsBytes: merged.maxFsBytes ?? DEFAULT_MAX_FS_BYTES,
    };
  }

  async run(job: Job): Promise<RunResult> {
    // The caller awaits this job: keep the event loop alive for it even while nothing else is
    // referenced (esbuild's service and the idle host process are unref'd by design).
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      return await this.#run(job);
    } finally {
      clearInterval(keepAlive);
    }
  }

  async #run(job: Job): Promise<RunResult> {
    const started = performance.now();
    const wall = () => ({ wallMs: performance.now() - started });
    if (this.#closed) return statusResult("killed", "SandboxClosed", "The sandbox is closed");
    const parsed = JobSchema.safeParse(job);
    if (!parsed.success) return statusResult("rejected", "InvalidJob", describeIssue(parsed.error), wall());
    const j = parsed.data;
    let inputJson: string | undefined;
    try {
      inputJson = j.input === undefined ? undefined : JSON.stringify(j.input);
    } catch (e) {
      return statusResult("rejected", "InvalidJob", `input: must be JSON-serializable (${(e as Error).message})`, wall());
    }
    if (inputJson !== undefined && inputJson.length > MAX_INPUT_BYTES) {
      return statusResult("rejected", "InvalidJob", `input: larger than ${MAX_INPUT_BYTES} bytes of JSON`, wall());
    }
    const route = routeJob(j, this.#container !== undefined);
    if (typeof route === "object") return statusResult("rejected", route.name, route.rejected, wall());
    if (j.signal?.aborted) return statusResult("killed", "AbortError", "The job was aborted before it started", wall());
    if (route === "container") return this.#runContainer(j, inputJson);
    if (j.language === "python") ensurePythonSnapshot();

    const filename = FILENAMES[j.language];
    let code = j.code;
    let sourceMap: string | undefined;
    if (j.language === "typescript") {
      const t = await transpileTypeScript(j.code, filename);
      if ("error" in t) return buildResult({ status: "error", error: t.error, usage: wall() });
      code = t.code;
      sourceMap = t.sourceMap;
    }
    const wire: WireJob = {
      id: randomUUID(),
      language: j.language,
      code,
      filename,
      env: { ...j.env },
      limits: this.#limitsFor(j.language, j.limits),
      stream: { stdout: !!j.onStdout, stderr: !!j.onStderr },
      ...(sourceMap ? { sourceMap } : {}),
      ...(inputJson !== undefined ? { inputJson } : {}),
    };
    return this.#dispatch(wire, j.signal, j.onStdout, j.onStderr);
  }

  async #dispatch(wire: WireJob, signal?: AbortSignal, onStdout?: (l: string) => void, onStderr?: (l: string) => void): Promise<RunResult> {
    const onAbort = () => this.#host.abort(wire.id);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.#host.run(wire, (fd, lines) => {
        const cb = fd === 1 ? onStdout : onStderr;
        // A throwing caller callback must not take the sandbox down with it.
        if (cb) for (const line of lines) try { cb(line); } catch { /* caller's bug, not the guest's */ }
      });
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** An escalated Python job: the same result shape, `backend: "container"`. Job bindings are not
   * offered inside containers yet (capabilities are isolate-only); the job runs without them. */
  #runContainer(j: ReturnType<typeof JobSchema.parse>, inputJson: string | undefined): Promise<RunResult> {
    return this.#container!.run({
      id: randomUUID(),
      code: j.code,
      files: j.files ?? {},
      env: { ...j.env },
      limits: this.#limitsFor("python", j.limits),
      ...(inputJson !== undefined ? { inputJson } : {}),
      ...(j.session !== undefined ? { session: j.session } : {}),
    }, (fd, lines) => {
      const cb = fd === 1 ? j.onStdout : j.onStderr;
      if (cb) for (const line of lines) try { cb(line); } catch { /* caller's bug, not the guest's */ }
    }, j.signal);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#container?.close();
    await this.#host.close();
  }
}
