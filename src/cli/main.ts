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

const USAGE = `usage: isobox run <file.js|file.ts|file.py> [--input JSON] [--file NAME=PATH]... [--timeout MS]
                  [--memory MB] [--backend auto|isolate|container] [--json] [--out DIR]
  --out DIR                 write the job's output files (output/**) under DIR
  --mcp NAME=URL|SCRIPT|CMD  give the job an MCP server's tools as host.NAME.<tool> (an http(s) URL,
                            a .js/.ts server script run with this Node, or a command line)
  --allow-fetch HOST        give the job fetch() to HOST (repeatable; see README for patterns)`;

const EXIT: Record<Status, number> = { ok: 0, error: 1, timeout: 124, memory: 137, rejected: 2, output_limit: 3, killed: 3, crashed: 3 };
const LANGUAGE: Record<string, Language> = { ".js": "javascript", ".mjs": "javascript", ".ts": "typescript", ".mts": "typescript", ".py": "python" };

export function exitCodeFor(status: Status): number {
  return EXIT[status];
}

function fail(message: string): number {
  process.stderr.write(`isobox: ${message}\n${USAGE}\n`);
  return 2;
}

export async function main(argv: string[]): Promise<number> {
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
    return fail((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const [command, path, ...extra] = positionals;
  if (command !== "run" || !path || extra.length) return fail(command === "run" ? "expected exactly one file" : `unknown command ${command ?? "(none)"}`);
  const language = LANGUAGE[extname(path).toLowerCase()];
  if (!language) return fail(`cannot tell the language of ${path} (use .js, .mjs, .ts, .mts or .py)`);

  let code: string;
  try { code = readFileSync(path, "utf8"); } catch (e) { return fail(`cannot read ${path}: ${(e as Error).message}`); }
  const job: Job = { language, code };
  if (values.input !== undefined) {
    try { job.input = JSON.parse(values.input); } catch { return fail("--input must be JSON"); }
  }
  if (values.file?.length) {
    job.files = {};
    for (const spec of values.file) {
      const eq = spec.indexOf("=");
      if (eq <= 0) return fail(`--file expects NAME=PATH, got ${spec}`);
      try { job.files[spec.slice(0, eq)] = new Uint8Array(readFileSync(spec.slice(eq + 1))); } catch (e) { return fail(`cannot read ${spec.slice(eq + 1)}: ${(e as Error).message}`); }
    }
  }
  const limits: Record<string, number> = {};
  for (const [flag, key] of [["timeout", "timeoutMs"], ["memory", "memoryMb"]] as const) {
    const v = values[flag];
    if (v === undefined) continue;
    if (!/^\d+$/.test(v)) return fail(`--${flag} must be a positive integer`);
    limits[key] = Number(v);
  }
  if (Object.keys(limits).length) job.limits = limits;
  if (values.backend !== undefined) {
    if (!["auto", "isolate", "container"].includes(values.backend)) return fail("--backend must be auto, isolate or container");
    job.backend = values.backend as Job["backend"];
  }
  if (!values.json) {
    job.onStdout = (line) => process.stdout.write(`${line}\n`);
    job.onStderr = (line) => process.stderr.write(`${line}\n`);
  }

  // The container backend only when this job goes there (a daemon is needed for nothing else).
  const container = wantsContainer(job);
  const options: SandboxOptions = { concurrency: 1, warm: { javascript: 0, container: 0 }, ...(container ? { container: { enabled: true } } : {}) };
  if (values.mcp?.length) {
    const servers: Record<string, { url: string } | { command: string; args: string[] }> = {};
    for (const spec of values.mcp) {
      const eq = spec.indexOf("=");
      if (eq <= 0) return fail(`--mcp expects NAME=URL|SCRIPT|COMMAND, got ${spec}`);
      servers[spec.slice(0, eq)] = mcpServer(spec.slice(eq + 1));
    }
    options.mcp = { servers };
  }
  if (values["allow-fetch"]?.length) options.fetch = { allow: values["allow-fetch"] };
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
  if (values.out !== undefined) writeOutputs(values.out, result.files);
  else if (!values.json) for (const f of result.files) process.stderr.write(`[isobox] output file ${f.path} (${f.mimeType}, ${f.bytes.byteLength} bytes; --out DIR saves it)\n`);
  if (values.json) {
    const { files, ...rest } = result;
    const out = { ...rest, files: files.map((f) => ({ path: f.path, mimeType: f.mimeType, bytesBase64: Buffer.from(f.bytes).toString("base64") })) };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    if (result.value !== undefined) process.stdout.write(`${JSON.stringify(result.value, null, 2)}\n`);
    if (result.status !== "ok") {
      const e = result.error;
      process.stderr.write(`${e?.stack && e.stack.includes(e.message) ? e.stack : `${e?.name ?? "Error"}: ${e?.message ?? ""}`}\n[isobox] status: ${result.status}\n`);
    }
  }
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
    process.stderr.write(`[isobox] wrote ${target} (${f.mimeType}, ${f.bytes.byteLength} bytes)\n`);
  }
}

/** `--mcp` value: an http(s) URL, a server script for this Node, or a command line split on spaces. */
function mcpServer(spec: string): { url: string } | { command: string; args: string[] } {
  if (/^https?:\/\//.test(spec)) return { url: spec };
  if (/\.(m?js|m?ts)$/.test(spec)) return { command: process.execPath, args: [resolve(spec)] };
  const [command, ...args] = spec.split(/\s+/).filter(Boolean);
  return { command: command!, args };
}
