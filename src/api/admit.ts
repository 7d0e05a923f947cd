// Runs in: the embedding process. The door's one check of a job: validate it, default it and turn
// it into a frozen AdmittedJob (plus the pieces that stay in this process: its bindings and
// callbacks). Nothing behind the door validates the job again. A job that cannot be admitted is
// answered with a RunResult (rejected, or error for TypeScript that does not compile), never thrown.
import { randomUUID } from "node:crypto";
import { freezeJob, type AdmittedJob } from "../contract/admitted.ts";
import { describeIssue } from "../contract/issues.ts";
import { JobSchema, type Bindings, type Job, type ParsedJob } from "../contract/job.ts";
import { MAX_INPUT_BYTES, resolveLimits, type Limits } from "../contract/limits.ts";
import { abortedBeforeStart, rejected, type Outcome } from "../contract/outcomes.ts";
import { buildResult, statusResult, type BackendName, type RunResult } from "../contract/result.ts";
import { moduleNeedingContainer } from "../python/imports.ts";
import { jobFiles } from "../vfs/job-files.ts";
import { transpileTypeScript } from "./typescript.ts";

const FILENAMES = { javascript: "main.js", typescript: "main.ts", python: "main.py" } as const;

/** What the door knows of the sandbox when it admits a job. */
export interface DoorContext {
  defaultLimits: Partial<Limits> | undefined;
  bindings: Bindings | undefined;
  /** MCP tools every job gets, by server (a binding may not take a server's name). */
  mcpNames: Record<string, string[]>;
  fetch: boolean;
}

export interface Admission {
  job: AdmittedJob;
  /** The job as the caller gave it, parsed: its callbacks and signal. */
  parsed: ParsedJob;
  /** Its bindings over the sandbox's: the handlers stay in this process. */
  bindings: Bindings;
}

export async function admit(raw: Job, door: DoorContext, started: number): Promise<Admission | RunResult> {
  const wall = () => ({ wallMs: performance.now() - started });
  // Refused at the door: answered in the name of the backend the caller asked for, if any.
  const home = askedBackend(raw);
  const answer = (o: Outcome) => ({ ...statusResult(o, wall()), backend: home });
  // The caller's object is read here and only here: a getter or Proxy trap that throws is the job's
  // content, answered as rejected (run never throws for a job's content).
  const parsed = readCaller("(job)", () => JobSchema.safeParse(raw));
  if ("status" in parsed) return answer(parsed);
  if (!parsed.success) return answer(rejected("InvalidJob", describeIssue(parsed.error)));
  const j = parsed.data;
  const input = inputJson(j.input);
  if (typeof input === "object") return answer(input);
  const limits = resolveLimits(j.language, door.defaultLimits, j.limits);
  const files = readCaller("files", () => jobFiles(j.files, limits.maxFsBytes));
  if ("status" in files) return answer(files);
  if ("error" in files) return answer(rejected("InvalidJob", files.error));
  if (j.signal?.aborted) return answer(abortedBeforeStart());
  const bindings = { ...door.bindings, ...j.bindings };
  const clash = Object.keys(bindings).find((name) => Object.hasOwn(door.mcpNames, name));
  if (clash) return answer(rejected("InvalidJob", `bindings.${clash}: an MCP server has the same name`));
  const filename = FILENAMES[j.language];
  let code = j.code;
  let sourceMap: string | undefined;
  if (j.language === "typescript") {
    const t = await transpileTypeScript(j.code, filename, limits.timeoutMs);
    if ("status" in t) return answer(t);
    if ("error" in t) return buildResult({ status: "error", error: t.error, usage: wall() });
    ({ code, sourceMap } = t);
  }
  const job = freezeJob({
    id: randomUUID(),
    language: j.language,
    code,
    filename,
    files: files.files,
    env: { ...j.env },
    limits,
    capabilities: { bindings: Object.keys(bindings), mcp: copyNames(door.mcpNames), fetch: door.fetch },
    backend: j.backend ?? "auto",
    ...(sourceMap !== undefined ? { sourceMap } : {}),
    ...(input !== undefined ? { inputJson: input } : {}),
    ...(j.session !== undefined ? { session: j.session } : {}),
  });
  return { job, parsed: j, bindings };
}

/** The backend a job names, read defensively (its getter may throw: that is for the parse to say). */
function askedBackend(raw: Job): BackendName {
  try {
    return (raw as { backend?: unknown } | null)?.backend === "container" ? "container" : "isolate";
  } catch {
    return "isolate";
  }
}

/** Runs `read` over the caller's values; what it throws becomes an InvalidJob naming `field`. */
function readCaller<T extends object>(field: string, read: () => T): T | Outcome {
  try {
    return read();
  } catch (e) {
    const why = e instanceof Error ? e.message : typeof e;
    return rejected("InvalidJob", `${field}: could not be read (${String(why).slice(0, 200)})`);
  }
}

/** The job's own copy (it is frozen with the job; the MCP listing may change under later jobs). */
function copyNames(names: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(names).map(([server, tools]) => [server, [...tools]]));
}

function inputJson(input: unknown): string | undefined | Outcome {
  let json: string | undefined;
  try {
    json = input === undefined ? undefined : JSON.stringify(input);
  } catch (e) {
    return rejected("InvalidJob", `input: must be JSON-serializable (${e instanceof Error ? e.message : String(e)})`);
  }
  if (json !== undefined && json.length > MAX_INPUT_BYTES)
    return rejected("InvalidJob", `input: larger than ${MAX_INPUT_BYTES} bytes of JSON`);
  return json;
}

/**
 * Whether a job would be routed to the container backend (for a door that starts Docker only when
 * a job needs it, as the CLI does): asked for by name, or Python the isolate cannot import.
 */
export function wantsContainer(job: Pick<Job, "language" | "code" | "files" | "backend">): boolean {
  if (job.language !== "python" || job.backend === "isolate") return false;
  return job.backend === "container" || moduleNeedingContainer(job.code, job.files) !== undefined;
}
