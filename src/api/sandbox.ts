// createSandbox / Sandbox: the public door. Everything is validated here; a job that cannot run is
// answered with a RunResult (rejected), and only API misuse (bad sandbox options) throws.
import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import { SandboxHost } from "../host/supervisor.ts";
import type { WireJob } from "../host/protocol.ts";
import { buildResult, statusResult } from "./result.ts";
import {
  DEFAULT_BINDING_TIMEOUT_MS, DEFAULT_MAX_BINDING_CALLS, DEFAULT_MAX_FS_BYTES, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_MS, JobSchema, MAX_INPUT_BYTES,
  SandboxOptionsSchema, type Job, type Language, type Limits, type RunResult, type SandboxOptions,
} from "./schemas.ts";
import { transpileTypeScript } from "./typescript.ts";
import { ensurePythonSnapshot, pythonSnapshotFile } from "../python/snapshot-file.ts";
import { describeIssue } from "./issues.ts";
import { jobFiles, type JobFile } from "../vfs/job-files.ts";
import { CallDispatcher, type HostCapabilities } from "../bindings/dispatcher.ts";
import { fetchCapability } from "../bindings/fetch-call.ts";
import { McpCapability } from "../bindings/mcp-call.ts";
import { bindingInputJsonSchema, describeCapabilities, type CapabilityEntry } from "../bindings/describe.ts";
import { McpTools } from "../mcp/index.ts";
import type { Bindings } from "./schemas.ts";
import { ContainerBackend } from "../container/backend.ts";
import { routeJob } from "../container/routing.ts";

export interface Sandbox {
  run(job: Job): Promise<RunResult>;
  /** Ends a session now: its guest, variables and files are gone; the next run with the id starts afresh. */
  endSession(id: string): Promise<void>;
  close(): Promise<void>;
  /**
   * The capabilities a job gets (bindings, MCP tools), as text for an LLM prompt ("code mode"):
   * `declare module "isobox:host"` for JavaScript/TypeScript, a `from isobox import host` stub for
   * Python, with each schema's types and each description. Job-level `bindings` may be added.
   */
  describe(options: { language: Language; bindings?: Bindings }): string;
  /** Diagnostics: the pid of the sandbox host process (changes after a crash restart). */
  readonly hostPid: number;
}

const DEFAULT_WARM_PER_THREAD = 2;
const DEFAULT_SESSIONS = { max: 16, idleTimeoutMs: 10 * 60_000, maxAgeMs: 60 * 60_000 };
const FILENAMES = { javascript: "main.js", typescript: "main.ts", python: "main.py" } as const;

export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const parsed = SandboxOptionsSchema.safeParse(options);
  if (!parsed.success) throw new TypeError(`isobox: invalid sandbox options: ${describeIssue(parsed.error)}`);
  const sandbox = new IsoboxSandbox(parsed.data);
  try {
    await sandbox.started;
  } catch (e) {
    await sandbox.close();
    throw e;
  }
  return sandbox;
}

class IsoboxSandbox implements Sandbox {
  readonly #opts: ReturnType<typeof SandboxOptionsSchema.parse>;
  readonly #host: SandboxHost;
  /** What jobs may call on the host besides their bindings (MCP tools, fetch), shared by every job. */
  readonly #capabilities: HostCapabilities = {};
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
      sessions: {
        maxSessions: opts.sessions?.max ?? DEFAULT_SESSIONS.max,
        idleTimeoutMs: opts.sessions?.idleTimeoutMs ?? DEFAULT_SESSIONS.idleTimeoutMs,
        maxAgeMs: opts.sessions?.maxAgeMs ?? DEFAULT_SESSIONS.maxAgeMs,
      },
    });
    if (opts.fetch) this.#capabilities.fetch = fetchCapability(opts.fetch);
    // No daemon, runtime or image, or an MCP server that cannot start: a setup error, said before any job runs.
    this.started = Promise.all([this.#host.ready, this.#connectMcp(), this.#startContainer(opts)]).then(() => {});
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

  /** MCP servers are connected once, for every job; their credentials stay in this process. */
  async #connectMcp(): Promise<void> {
    const mcp = this.#opts.mcp;
    if (!mcp) return;
    const { servers, ...connect } = mcp;
    for (const name of Object.keys(servers)) {
      if (this.#opts.bindings && Object.hasOwn(this.#opts.bindings, name)) throw new TypeError(`isobox: invalid sandbox options: mcp.servers.${name}: a binding has the same name`);
    }
    this.#mcp = new McpCapability(await McpTools.connect(servers, connect));
    this.#capabilities.mcp = this.#mcp;
  }

  #mcp: McpCapability | null = null;

  describe(options: { language: Language; bindings?: Bindings }): string {
    const language = options?.language;
    if (language !== "javascript" && language !== "typescript" && language !== "python") throw new TypeError("isobox: describe({ language }) takes javascript, typescript or python");
    const bindings = { ...this.#opts.bindings, ...options.bindings };
    const entries: CapabilityEntry[] = Object.entries(bindings).map(([name, b]) => ({
      path: [name],
      ...(b.description !== undefined ? { description: b.description } : {}),
      inputSchema: bindingInputJsonSchema(b.input),
    }));
    if (this.#mcp) entries.push(...this.#mcp.entries());
    return describeCapabilities(entries, language);
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
      maxBindingCalls: merged.maxBindingCalls ?? DEFAULT_MAX_BINDING_CALLS,
      bindingTimeoutMs: merged.bindingTimeoutMs ?? DEFAULT_BINDING_TIMEOUT_MS,
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
    const limits = this.#limitsFor(j.language, j.limits);
    const files = jobFiles(j.files, limits.maxFsBytes);
    if ("error" in files) return statusResult("rejected", "InvalidJob", files.error, wall());
    const route = routeJob(j, this.#container !== undefined);
    if (typeof route === "object") return statusResult("rejected", route.name, route.rejected, wall());
    if (j.signal?.aborted) return statusResult("killed", "AbortError", "The job was aborted before it started", wall());
    const bindings = { ...this.#opts.bindings, ...j.bindings };
    const mcpNames = this.#mcp?.names() ?? {};
    const clash = Object.keys(bindings).find((name) => Object.hasOwn(mcpNames, name));
    if (clash) return statusResult("rejected", "InvalidJob", `bindings.${clash}: an MCP server has the same name`, wall());
    const capabilities = { bindings: Object.keys(bindings), mcp: mcpNames, fetch: !!this.#capabilities.fetch };
    const jobId = randomUUID();
    // One dispatcher per job, whichever backend runs it: the same budget, timeout, validation and
    // audit hook for a call from an isolate as for one from a container.
    const calls = new CallDispatcher(bindings, this.#capabilities, {
      jobId,
      ...(j.session !== undefined ? { session: j.session } : {}),
      maxCalls: limits.maxBindingCalls,
      callTimeoutMs: limits.bindingTimeoutMs,
      ...(this.#opts.onBindingCall ? { onBindingCall: this.#opts.onBindingCall } : {}),
    });
    try {
      if (route === "container") return await this.#runContainer(j, jobId, inputJson, files.files, capabilities, calls);
      return await this.#runIsolate(j, jobId, inputJson, files.files, limits, capabilities, calls, wall);
    } finally {
      calls.close();
    }
  }

  async #runIsolate(j: ReturnType<typeof JobSchema.parse>, jobId: string, inputJson: string | undefined, files: JobFile[], limits: Limits, capabilities: WireJob["capabilities"], calls: CallDispatcher, wall: () => { wallMs: number }): Promise<RunResult> {
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
      id: jobId,
      language: j.language,
      code,
      filename,
      env: { ...j.env },
      limits,
      stream: { stdout: !!j.onStdout, stderr: !!j.onStderr },
      files,
      capabilities,
      ...(j.session !== undefined ? { session: j.session } : {}),
      ...(sourceMap ? { sourceMap } : {}),
      ...(inputJson !== undefined ? { inputJson } : {}),
    };
    return this.#dispatch(wire, calls, j.signal, j.onStdout, j.onStderr);
  }


  async #dispatch(wire: WireJob, calls: CallDispatcher, signal?: AbortSignal, onStdout?: (l: string) => void, onStderr?: (l: string) => void): Promise<RunResult> {
    const onAbort = () => this.#host.abort(wire.id);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.#host.run(wire, (fd, lines) => {
        const cb = fd === 1 ? onStdout : onStderr;
        // A throwing caller callback must not take the sandbox down with it.
        if (cb) for (const line of lines) try { cb(line); } catch { /* caller's bug, not the guest's */ }
      }, (call) => calls.answer(call));
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async endSession(id: string): Promise<void> {
    if (typeof id !== "string") throw new TypeError("isobox: endSession(id) takes the session id string");
    this.#host.endSession(id);
    await this.#container?.endSession(id);
  }

  /** An escalated Python job: the same result shape, `backend: "container"`, and the same
   * capabilities (its calls come back over the container's stdio to this job's dispatcher). */
  #runContainer(j: ReturnType<typeof JobSchema.parse>, jobId: string, inputJson: string | undefined, files: JobFile[], capabilities: WireJob["capabilities"], calls: CallDispatcher): Promise<RunResult> {
    return this.#container!.run({
      id: jobId,
      capabilities,
      onCall: (call) => calls.answer(call),
      code: j.code,
      files: Object.fromEntries(files.map((f) => [f.path, f.bytes])),
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
    await Promise.all([this.#host.close(), this.#mcp?.close(), this.#container?.close()]);
  }
}
