// Runs in: the embedding process (the CLI is an embedding app of one sandbox).
// `isobox run <file> [--input JSON] [--file NAME=PATH]... [--timeout MS] [--memory MB]
//                    [--backend auto|isolate|container] [--json]`  (API.md)
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, extname, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { createSandbox } from "../api/sandbox.ts";
import { wantsContainer } from "../api/admit.ts";
import type { Job, Language } from "../contract/job.ts";
import type { RunResult, Status } from "../contract/result.ts";
import type { SandboxOptions } from "../api/options.ts";
import { escapeInline, guestText } from "./terminal.ts";

const USAGE = `usage: isobox run <file.js|file.ts|file.py> [--input JSON] [--file NAME=PATH]... [--timeout MS]
                  [--memory MB] [--backend auto|isolate|container] [--json] [--out DIR]
  --out DIR                 write the job's output files (output/**) under DIR
  --mcp NAME=URL|SCRIPT|CMD  give the job an MCP server's tools as host.NAME.<tool> (an http(s) URL,
                            a .js/.ts server script run with this Node, or a command line)
  --allow-fetch HOST        give the job fetch() to HOST (repeatable; see README for patterns)`;

const EXIT: Record<Status, number> = { ok: 0, error: 1, timeout: 124, memory: 137, rejected: 2, output_limit: 3, killed: 3, crashed: 3 };
const LANGUAGE: Record<string, Language> = {
  ".js": "javascript",
  ".mjs": "javascript",
  ".ts": "typescript",
  ".mts": "typescript",
  ".py": "python",
};

export function exitCodeFor(status: Status): number {
  return EXIT[status];
}

function fail(message: string): number {
  process.stderr.write(`isobox: ${message}\n${USAGE}\n`);
  return 2;
}

/** A command line isobox cannot run: reported with the usage, exit code 2. */
class UsageError extends Error {}

/** `isobox run`'s flags, checked as far as they can be without reading a file. */
interface RunArgs {
  path: string;
  language: Language;
  input?: string;
  files: string[];
  timeout?: string;
  memory?: string;
  backend?: string;
  json: boolean;
  out?: string;
  mcp: string[];
  allowFetch: string[];
}

/** The command line: the run it asks for, or "help". Throws UsageError. */
export function parseRunArgs(argv: string[]): RunArgs | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        input: { type: "string" },
        file: { type: "string", multiple: true },
        timeout: { type: "string" },
        memory: { type: "string" },
        backend: { type: "string" },
        json: { type: "boolean", default: false },
        out: { type: "string" },
        mcp: { type: "string", multiple: true },
        "allow-fetch": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const [command, path, ...extra] = positionals;
  if (command !== "run" || !path || extra.length)
    throw new UsageError(command === "run" ? "expected exactly one file" : `unknown command ${command ?? "(none)"}`);
  const language = LANGUAGE[extname(path).toLowerCase()];
  if (!language) throw new UsageError(`cannot tell the language of ${path} (use .js, .mjs, .ts, .mts or .py)`);
  const { input, timeout, memory, backend, json, out } = values;
  return {
    path,
    language,
    input,
    files: values.file ?? [],
    timeout,
    memory,
    backend,
    json: json ?? false,
    out,
    mcp: values.mcp ?? [],
    allowFetch: values["allow-fetch"] ?? [],
  };
}

/** The job the flags describe, its file and input files read. Throws UsageError. */
export function buildJob(args: RunArgs): Job {
  let code: string;
  try {
    code = readFileSync(args.path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${args.path}: ${(e as Error).message}`);
  }
  const job: Job = { language: args.language, code };
  if (args.input !== undefined) {
    try {
      job.input = JSON.parse(args.input);
    } catch {
      throw new UsageError("--input must be JSON");
    }
  }
  if (args.files.length) {
    job.files = {};
    for (const spec of args.files) {
      const eq = spec.indexOf("=");
      if (eq <= 0) throw new UsageError(`--file expects NAME=PATH, got ${spec}`);
      try {
        job.files[spec.slice(0, eq)] = new Uint8Array(readFileSync(spec.slice(eq + 1)));
      } catch (e) {
        throw new UsageError(`cannot read ${spec.slice(eq + 1)}: ${(e as Error).message}`);
      }
    }
  }
  const limits: Record<string, number> = {};
  for (const [flag, key] of [
    ["timeout", "timeoutMs"],
    ["memory", "memoryMb"],
  ] as const) {
    const v = args[flag];
    if (v === undefined) continue;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${flag} must be a positive integer`);
    limits[key] = Number(v);
  }
  if (Object.keys(limits).length) job.limits = limits;
  if (args.backend !== undefined) {
    if (!["auto", "isolate", "container"].includes(args.backend)) throw new UsageError("--backend must be auto, isolate or container");
    job.backend = args.backend as Job["backend"];
  }
  if (!args.json) {
    // Guest lines reach a terminal: control characters escaped, no line passing for the CLI's own.
    job.onStdout = (line) => process.stdout.write(`${guestText(line)}\n`);
    job.onStderr = (line) => process.stderr.write(`${guestText(line)}\n`);
  }
  return job;
}

/** A one-job sandbox: the container backend only when this job goes there (a daemon is needed for nothing else). */
function sandboxOptions(args: RunArgs, job: Job): SandboxOptions {
  const options: SandboxOptions = {
    concurrency: 1,
    warm: { javascript: 0, container: 0 },
    ...(wantsContainer(job) ? { container: { enabled: true } } : {}),
  };
  if (args.mcp.length) {
    const servers: Record<string, { url: string } | { command: string; args: string[] }> = {};
    for (const spec of args.mcp) {
      const eq = spec.indexOf("=");
      if (eq <= 0) throw new UsageError(`--mcp expects NAME=URL|SCRIPT|COMMAND, got ${spec}`);
      servers[spec.slice(0, eq)] = mcpServer(spec.slice(eq + 1));
    }
    options.mcp = { servers };
  }
  if (args.allowFetch.length) options.fetch = { allow: args.allowFetch };
  return options;
}

/** The result as the flags ask: one JSON line, or the value on stdout and a failure on stderr; files saved or listed. */
export function report(result: RunResult, args: Pick<RunArgs, "json" | "out">): void {
  if (args.out !== undefined) writeOutputs(args.out, result.files);
  else if (!args.json)
    for (const f of result.files)
      process.stderr.write(
        `[isobox] output file ${escapeInline(f.path)} (${escapeInline(f.mimeType)}, ${f.bytes.byteLength} bytes; --out DIR saves it)\n`,
      );
  if (args.json) {
    const { files, ...rest } = result;
    const out = {
      ...rest,
      files: files.map((f) => ({ path: f.path, mimeType: f.mimeType, bytesBase64: Buffer.from(f.bytes).toString("base64") })),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  // The value and the error are the guest's: escaped (JSON.stringify leaves DEL and C1 raw) before printing.
  if (result.value !== undefined) process.stdout.write(`${guestText(JSON.stringify(result.value, null, 2) ?? String(result.value))}\n`);
  if (result.status !== "ok") {
    const e = result.error;
    const text = e?.stack && e.stack.includes(e.message) ? e.stack : `${e?.name ?? "Error"}: ${e?.message ?? ""}`;
    process.stderr.write(`${guestText(text)}\n[isobox] status: ${result.status}\n`);
  }
}

export async function main(argv: string[]): Promise<number> {
  let args: RunArgs;
  let job: Job;
  let options: SandboxOptions;
  try {
    const parsed = parseRunArgs(argv);
    if (parsed === "help") {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    args = parsed;
    job = buildJob(args);
    options = sandboxOptions(args, job);
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message);
    throw e;
  }
  let sandbox;
  try {
    sandbox = await createSandbox(options);
  } catch (e) {
    return fail((e as Error).message);
  }
  let result: RunResult;
  try {
    result = await sandbox.run(job);
  } finally {
    await sandbox.close();
  }
  report(result, args);
  return exitCodeFor(result.status);
}

/** Output files under `dir`; their paths were normalised by the harvest, checked here again for the host's disk. */
function writeOutputs(dir: string, files: RunResult["files"]): void {
  const root = resolve(dir);
  for (const f of files) {
    const target = resolve(root, f.path);
    if (!target.startsWith(root + sep)) continue; // threat: a name that would land outside DIR
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.bytes);
    process.stderr.write(`[isobox] wrote ${escapeInline(target)} (${escapeInline(f.mimeType)}, ${f.bytes.byteLength} bytes)\n`);
  }
}

/** `--mcp` value: an http(s) URL, a server script for this Node, or a command line split on spaces. */
function mcpServer(spec: string): { url: string } | { command: string; args: string[] } {
  if (/^https?:\/\//.test(spec)) return { url: spec };
  if (/\.(m?js|m?ts)$/.test(spec)) return { command: process.execPath, args: [resolve(spec)] };
  const [command, ...args] = spec.split(/\s+/).filter(Boolean);
  return { command: command!, args };
}
