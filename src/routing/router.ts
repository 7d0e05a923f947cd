// Runs in: the embedding process. Which backend runs a job: the registry of backends a sandbox has,
// in order of preference (the first is the default), and the one rule that picks among them.
// Routing is a convenience, not a security boundary: every backend holds the same caps.
import type { AdmittedJob } from "../contract/admitted.ts";
import type { Backend } from "../contract/backend.ts";
import { rejected, type Outcome } from "../contract/outcomes.ts";
import type { BackendName } from "../contract/result.ts";

/** What the router needs of a backend: its name and whether it takes a job. */
export type Routable = Pick<Backend, "name" | "accepts">;

export class BackendRouter<B extends Routable = Backend> {
  readonly #backends: readonly B[];

  /** `backends` in order of preference; the first one is the default. */
  constructor(backends: readonly B[]) {
    if (backends.length === 0) throw new RangeError("a sandbox needs at least one backend");
    this.#backends = Object.freeze([...backends]);
  }

  get(name: BackendName): B | undefined {
    return this.#backends.find((b) => b.name === name);
  }

  /**
   * The backend the caller named, if it is there and takes the job; for "auto", the first backend
   * that takes it, else the default one, which runs the job and explains in the guest's own terms
   * why it cannot go further (the isolate's Python raises ModuleNotFoundError naming the container
   * backend and how to enable it).
   */
  pick(job: AdmittedJob): B | Outcome {
    if (job.backend !== "auto") {
      const named = this.get(job.backend);
      if (!named) return notEnabled(job.backend);
      const answer = named.accepts(job);
      return answer === true ? named : answer;
    }
    return this.#backends.find((b) => b.accepts(job) === true) ?? this.#backends[0]!;
  }
}

function notEnabled(name: BackendName): Outcome {
  if (name === "container") {
    return rejected(
      "ContainerDisabled",
      "backend: the container backend is not enabled for this sandbox (createSandbox({ container: { enabled: true } }))",
    );
  }
  return rejected("InvalidJob", `backend: the ${name} backend is not enabled for this sandbox`);
}
