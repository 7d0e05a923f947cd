// Runs in: the embedding process. The session registry: one owner for every session id, above the
// backends. It remembers each id's backend, language and sizes, sends every later run of the id to
// the same backend (so one id is always one guest: threat of a session split across two guests,
// each holding half its state), and applies one policy to every backend: at most `max` live
// sessions (the least recently used idle one is ended to make room), an idle timeout and a maximum
// age. A backend keeps only the session's guest and its run queue.
//
// A run whose code needs another backend than the one its session lives in is rejected
// (SessionBackend), never escalated: a session's state (interpreter globals, files) lives inside
// its guest and cannot be carried into another kind of guest faithfully. The caller ends the
// session, or starts the session with the backend it needs.
import type { AdmittedJob } from "../contract/admitted.ts";
import type { Backend } from "../contract/backend.ts";
import { rejected, sessionFs, sessionMemory, type Outcome } from "../contract/outcomes.ts";
import type { Language } from "../contract/job.ts";

export interface SessionPolicy {
  max: number;
  idleTimeoutMs: number;
  maxAgeMs: number;
}

interface SessionRecord {
  readonly id: string;
  readonly backend: Backend;
  readonly language: Language;
  /** Sizes fixed when the session's guest was made (an isolate's heap cap, a container's cgroup). */
  readonly memoryMb: number;
  readonly maxFsBytes: number;
  busy: number;
  idle?: NodeJS.Timeout;
  readonly age: NodeJS.Timeout;
}

/** A run admitted into its session: run it on `backend`, then call `done()` exactly once. */
export interface SessionLease {
  backend: Backend;
  done(): void;
}

export class SessionRegistry {
  /** Insertion order is recency: a session is moved to the end whenever it is used. */
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #policy: SessionPolicy;
  /** Ends still in flight, so close() and endSession() can wait for the guests to be gone. */
  readonly #ending = new Set<Promise<void>>();

  constructor(policy: SessionPolicy) {
    this.#policy = policy;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** The backend a session lives in, if it is live. */
  backendOf(id: string): Backend | undefined {
    return this.#sessions.get(id)?.backend;
  }

  /**
   * Admit one run of `job.session`: to the backend its session lives in, or, for a new session, to
   * the one `pick` chooses. A refusal is an Outcome (status rejected) saying why.
   */
  lease(job: AdmittedJob, pick: () => Backend | Outcome): SessionLease | Outcome {
    const id = job.session!;
    let s = this.#sessions.get(id);
    if (s) {
      const refusal = this.#refusal(s, job, pick);
      if (refusal) return refusal;
    } else {
      // Picked before anything is evicted: a job the router refuses must not end another session.
      const backend = pick();
      if (!isBackend(backend)) return backend;
      if (this.#sessions.size >= this.#policy.max && !this.#evictOne()) {
        return rejected("TooManySessions", `session: all ${this.#policy.max} live sessions are busy; end one with endSession(id)`);
      }
      s = this.#open(id, backend, job);
    }
    const record = s;
    this.#sessions.delete(id);
    this.#sessions.set(id, record);
    record.busy++;
    clearTimeout(record.idle);
    let released = false;
    return {
      backend: record.backend,
      done: () => {
        if (released) return;
        released = true;
        record.busy--;
        if (record.busy === 0 && this.#sessions.get(id) === record) {
          record.idle = setTimeout(() => void this.end(id), this.#policy.idleTimeoutMs).unref();
        }
      },
    };
  }

  #refusal(s: SessionRecord, job: AdmittedJob, pick: () => Backend | Outcome): Outcome | undefined {
    if (family(s.language) !== family(job.language)) {
      return rejected("SessionLanguage", `session: this session runs ${s.language}; start another session for ${job.language}`);
    }
    if (job.backend !== "auto" && job.backend !== s.backend.name) {
      return rejected(
        "SessionBackend",
        `session: this session lives in the ${s.backend.name} backend, not the ${job.backend} one; end it with endSession(id) or use another session id`,
      );
    }
    const accepts = s.backend.accepts(job);
    // Declined for `auto` but where the router would send it anyway (its default backend, when no
    // other takes the job): the same rule as the session's first run, which went there the same way.
    if (accepts !== true && pick() !== s.backend) {
      return rejected(
        "SessionBackend",
        `session: this session lives in the ${s.backend.name} backend, which cannot run this job (${accepts.error.message}); end it with endSession(id), or start the session with backend: "container"`,
      );
    }
    if (s.memoryMb !== job.limits.memoryMb) return sessionMemory(s.memoryMb, job.limits.memoryMb);
    // Only a container's files are sized at start (its tmpfs); an isolate's VFS quota is per run.
    if (s.backend.name === "container" && s.maxFsBytes !== job.limits.maxFsBytes) return sessionFs(s.maxFsBytes, job.limits.maxFsBytes);
    return undefined;
  }

  #open(id: string, backend: Backend, job: AdmittedJob): SessionRecord {
    const record: SessionRecord = {
      id,
      backend,
      language: job.language,
      memoryMb: job.limits.memoryMb,
      maxFsBytes: job.limits.maxFsBytes,
      busy: 0,
      age: setTimeout(() => void this.end(id), this.#policy.maxAgeMs).unref(),
    };
    this.#sessions.set(id, record);
    return record;
  }

  /** Ends the least recently used idle session to make room; false when every one is busy. */
  #evictOne(): boolean {
    for (const [id, s] of this.#sessions) {
      if (s.busy === 0) {
        void this.end(id);
        return true;
      }
    }
    return false;
  }

  /** Ends a session now (its guest goes, on whichever backend); a no-op for an unknown id. */
  async end(id: string): Promise<void> {
    const s = this.#sessions.get(id);
    if (!s) return;
    this.#sessions.delete(id);
    clearTimeout(s.idle);
    clearTimeout(s.age);
    const ending = s.backend.endSession(id).catch(() => {});
    this.#ending.add(ending);
    try {
      await ending;
    } finally {
      this.#ending.delete(ending);
    }
  }

  /** Forgets every session (the backends' close() ends their guests) and waits for ends in flight. */
  async close(): Promise<void> {
    for (const s of this.#sessions.values()) {
      clearTimeout(s.idle);
      clearTimeout(s.age);
    }
    this.#sessions.clear();
    await Promise.all([...this.#ending]);
  }
}

function isBackend(b: Backend | Outcome): b is Backend {
  return typeof (b as Backend).run === "function";
}

/** JavaScript and TypeScript share a guest kind: a session may mix them. */
function family(language: Language): "javascript" | "python" {
  return language === "python" ? "python" : "javascript";
}
