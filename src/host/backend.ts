// Runs in: the embedding process. IsolateBackend: the Backend that runs guests in V8 isolates, in
// the supervised sandbox host process (SandboxHost). It takes every language; for `backend: "auto"`
// it declines a Python job that imports a module its Pyodide cannot provide, so the router can send
// that job to the container backend.
import type { AdmittedJob } from "../contract/admitted.ts";
import type { Backend, JobIO } from "../contract/backend.ts";
import { rejected, type Outcome } from "../contract/outcomes.ts";
import type { RunResult } from "../contract/result.ts";
import { moduleNeedingContainer } from "../python/imports.ts";
import { ensurePythonSnapshot } from "../python/snapshot-file.ts";
import type { HostInit } from "../pool/init.ts";
import { SandboxHost } from "./supervisor.ts";

/** The isolate's answer to "can you run this job?" (pure: also what the routing tests check). */
export function isolateAccepts(job: Pick<AdmittedJob, "language" | "code" | "files" | "backend">): true | Outcome {
  if (job.backend !== "auto" || job.language !== "python") return true;
  const files = Object.fromEntries(job.files.map((f) => [f.path, true]));
  const module = moduleNeedingContainer(job.code, files);
  return module === undefined
    ? true
    : rejected("InvalidJob", `python: imports ${module}, which the isolate's Python cannot provide (it needs the container backend)`);
}

export class IsolateBackend implements Backend {
  readonly name = "isolate" as const;
  readonly #host: SandboxHost;

  constructor(init: HostInit) {
    this.#host = new SandboxHost(init);
  }

  /** Resolves once the host process answered; rejects if it could not start at all. */
  get ready(): Promise<void> {
    return this.#host.ready;
  }

  /** Diagnostics: the sandbox host process's pid (changes after a crash restart). */
  get hostPid(): number {
    return this.#host.pid;
  }

  accepts(job: AdmittedJob): true | Outcome {
    return isolateAccepts(job);
  }

  async run(job: AdmittedJob, io: JobIO): Promise<RunResult> {
    if (job.language === "python") ensurePythonSnapshot();
    const onAbort = () => this.#host.abort(job.id);
    io.signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.#host.run({ ...job, files: [...job.files], stream: io.stream }, io.onOutput, io.onCall);
    } finally {
      io.signal.removeEventListener("abort", onAbort);
    }
  }

  async endSession(id: string): Promise<void> {
    this.#host.endSession(id);
  }

  close(): Promise<void> {
    return this.#host.close();
  }
}
