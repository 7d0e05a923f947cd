// Runs in: the embedding process. createSandbox / Sandbox: the library's door. Options are validated
// here once (a bad option throws IsoboxError INVALID_OPTIONS); every job is admitted once
// (admit.ts), routed to a backend by the session registry and the router, and answered with a
// RunResult: only API misuse throws.
import { availableParallelism } from "node:os";
import type { AdmittedJob } from "../contract/admitted.ts";
import type { Backend, JobIO } from "../contract/backend.ts";
import { IsoboxError, invalidOptions } from "../contract/errors.ts";
import { describeIssue } from "../contract/issues.ts";
import type { Bindings, Job, Language, ParsedJob } from "../contract/job.ts";
import { DEFAULT_MAX_FS_BYTES, DEFAULT_MEMORY_MB } from "../contract/limits.ts";
import { abortedBeforeStart, sandboxClosed, type Outcome } from "../contract/outcomes.ts";
import { statusResult, type RunResult } from "../contract/result.ts";
import { CallDispatcher, type HostCapabilities } from "../bindings/dispatcher.ts";
import { bindingInputJsonSchema, describeCapabilities, type CapabilityEntry } from "../bindings/describe.ts";
import { fetchCapability } from "../bindings/fetch-call.ts";
import { McpCapability } from "../bindings/mcp-call.ts";
import { ContainerBackend } from "../container/backend.ts";
import { IsolateBackend } from "../host/backend.ts";
import { McpConnectError, McpTools } from "../mcp/index.ts";
import { ensurePythonSnapshot, pythonSnapshotFile } from "../python/snapshot-file.ts";
import { BackendRouter } from "../routing/router.ts";
import { SessionRegistry, type SessionLease } from "../sessions/registry.ts";
import { admit, type Admission } from "./admit.ts";
import { SandboxOptionsSchema, type ParsedSandboxOptions, type SandboxOptions } from "./options.ts";

export interface Sandbox extends AsyncDisposable {
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

export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const parsed = SandboxOptionsSchema.safeParse(options);
  if (!parsed.success) throw invalidOptions(describeIssue(parsed.error));
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
  readonly #opts: ParsedSandboxOptions;
  readonly #isolate: IsolateBackend;
  /** Set once started: the isolate first (the default), then the container backend if enabled. */
  #router: BackendRouter;
  readonly #sessions: SessionRegistry;
  /** What jobs may call on the host besides their bindings (MCP tools, fetch), shared by every job. */
  readonly #capabilities: HostCapabilities = {};
  #mcp: McpCapability | null = null;
  #container: ContainerBackend | undefined;
  #closed = false;
  /** Aborted by close(): every running job's signal hears it. */
  readonly #closing = new AbortController();
  readonly started: Promise<void>;

  constructor(opts: ParsedSandboxOptions) {
    this.#opts = opts;
    const threads = opts.concurrency ?? availableParallelism();
    this.#isolate = new IsolateBackend({
      threads,
      warmJavascript: opts.warm?.javascript ?? threads * DEFAULT_WARM_PER_THREAD,
      defaultMemoryMb: opts.limits?.memoryMb ?? DEFAULT_MEMORY_MB.javascript,
      warmPython: opts.warm?.python ?? 0,
      defaultPythonMemoryMb: opts.limits?.memoryMb ?? DEFAULT_MEMORY_MB.python,
      pythonSnapshot: pythonSnapshotFile(),
    });
    this.#router = new BackendRouter([this.#isolate]);
    this.#sessions = new SessionRegistry({ ...DEFAULT_SESSIONS, ...opts.sessions });
    if (opts.fetch) this.#capabilities.fetch = fetchCapability(opts.fetch);
    // No daemon, runtime or image, or an MCP server that cannot start: a setup error, said before any job runs.
    this.started = Promise.all([this.#startIsolate(), this.#connectMcp(), this.#startContainer()]).then(() => {
      this.#router = new BackendRouter(this.#container ? [this.#isolate, this.#container] : [this.#isolate]);
    });
    if ((opts.warm?.python ?? 0) > 0) ensurePythonSnapshot();
  }

  async #startIsolate(): Promise<void> {
    try {
      await this.#isolate.ready;
    } catch (e) {
      throw new IsoboxError("HOST_START", (e as Error).message.replace(/^isobox: /, ""), { cause: e });
    }
  }

  async #startContainer(): Promise<void> {
    const opts = this.#opts;
    if (!opts.container?.enabled) return;
    const { image, runtime, socketPath } = opts.container;
    this.#container = await ContainerBackend.create({
      image,
      runtime,
      socketPath,
      warm: opts.warm?.container ?? 1,
      defaultLimits: {
        memoryMb: opts.limits?.memoryMb ?? DEFAULT_MEMORY_MB.python,
        maxFsBytes: opts.limits?.maxFsBytes ?? DEFAULT_MAX_FS_BYTES,
      },
    });
  }

  /** MCP servers are connected once, for every job; their credentials stay in this process. */
  async #connectMcp(): Promise<void> {
    const mcp = this.#opts.mcp;
    if (!mcp) return;
    const { servers, ...connect } = mcp;
    for (const name of Object.keys(servers)) {
      if (this.#opts.bindings && Object.hasOwn(this.#opts.bindings, name))
        throw invalidOptions(`mcp.servers.${name}: a binding has the same name`);
    }
    let tools: McpTools;
    try {
      tools = await McpTools.connect(servers, connect);
    } catch (e) {
      // The MCP layer's own errors, coded for the caller: a bad server entry, or one that cannot start.
      if (e instanceof McpConnectError) throw new IsoboxError("MCP_CONNECT", e.message, { cause: e });
      if (e instanceof TypeError) throw invalidOptions(e.message);
      throw e;
    }
    this.#mcp = new McpCapability(tools);
    this.#capabilities.mcp = this.#mcp;
  }

  describe(options: { language: Language; bindings?: Bindings }): string {
    const language = options?.language;
    if (language !== "javascript" && language !== "typescript" && language !== "python") {
      throw new IsoboxError("INVALID_OPTIONS", "describe({ language }) takes javascript, typescript or python");
    }
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
    return this.#isolate.hostPid;
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
    if (this.#closed) return statusResult(sandboxClosed(), wall());
    const admitted = await admit(
      job,
      {
        defaultLimits: this.#opts.limits,
        bindings: this.#opts.bindings,
        mcpNames: this.#mcp?.names() ?? {},
        fetch: !!this.#capabilities.fetch,
      },
      started,
    );
    if (!("job" in admitted)) return admitted;
    // Threat: a run admitted while close() ran (TypeScript compiles asynchronously) must not start a
    // guest on a backend that is closing, or restart its host process after close.
    if (this.#closed) return statusResult(sandboxClosed(), wall());
    const { job: j } = admitted;
    const lease = this.#lease(j);
    if ("status" in lease) {
      // A refused session run is answered in the name of the backend its session lives in.
      const home = j.session === undefined ? undefined : this.#sessions.backendOf(j.session);
      return { ...statusResult(lease, wall()), backend: home?.name ?? "isolate" };
    }
    try {
      return await this.#runOn(lease.backend, j, admitted);
    } finally {
      lease.done();
    }
  }

  /** The backend a job runs on: its session's, or the router's pick; a refusal says why. */
  #lease(job: AdmittedJob): SessionLease | Outcome {
    if (job.session !== undefined) return this.#sessions.lease(job, () => this.#router.pick(job));
    const backend = this.#router.pick(job);
    return "status" in backend ? backend : { backend, done: () => {} };
  }

  /** One job on one backend, with its own CallDispatcher: the same budget, timeout, validation and
   * audit hook for a call from an isolate as for one from a container. */
  async #runOn(backend: Backend, job: AdmittedJob, { parsed, bindings }: Admission): Promise<RunResult> {
    const calls = new CallDispatcher(bindings, this.#capabilities, {
      jobId: job.id,
      ...(job.session !== undefined ? { session: job.session } : {}),
      maxCalls: job.limits.maxBindingCalls,
      callTimeoutMs: job.limits.bindingTimeoutMs,
      ...(this.#opts.onBindingCall ? { onBindingCall: this.#opts.onBindingCall } : {}),
    });
    const signal = this.#closing.signal;
    const io: JobIO = {
      onOutput: outputTo(parsed),
      onCall: (call) => calls.answer(call),
      stream: { stdout: !!parsed.onStdout, stderr: !!parsed.onStderr },
      signal: parsed.signal ? AbortSignal.any([parsed.signal, signal]) : signal,
    };
    // Aborted while it was admitted (a TypeScript compile takes time) or waited: it never starts.
    if (io.signal.aborted) {
      calls.close();
      return { ...statusResult(this.#closed ? sandboxClosed() : abortedBeforeStart()), backend: backend.name };
    }
    try {
      // RunResult.backend is the name of the backend that ran the job, whatever it reported.
      const result = { ...(await backend.run(job, io)), backend: backend.name };
      // Killed because the sandbox closed: the same name on every backend, whichever way it heard.
      return this.#closed && result.status === "killed" ? { ...result, error: sandboxClosed().error } : result;
    } finally {
      calls.close();
    }
  }

  async endSession(id: string): Promise<void> {
    if (typeof id !== "string") throw new IsoboxError("INVALID_OPTIONS", "endSession(id) takes the session id string");
    await this.#sessions.end(id);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    await this.#sessions.close();
    await Promise.all([this.#isolate.close(), this.#mcp?.close(), this.#container?.close()]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The caller's line callbacks, guarded: a throwing callback must not take the sandbox down. */
function outputTo(job: ParsedJob): JobIO["onOutput"] {
  return (fd, lines) => {
    const cb = fd === 1 ? job.onStdout : job.onStderr;
    if (cb)
      for (const line of lines)
        try {
          cb(line);
        } catch {
          /* the caller's bug, not the guest's */
        }
  };
}
