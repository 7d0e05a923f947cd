// Shared helpers of the hostile (escape/abuse) suite: every attack runs through `attack()`, which
// checks that the host saw nothing (no pwned file, no secret, no child process, a well-formed result)
// and that the sandbox still serves a normal job afterwards.
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { expect } from "vitest";
import { RunResultSchema, type Job, type RunResult, type Sandbox } from "../../src/index.ts";

/** Set before any sandbox is created, so the sandbox host process inherits it. */
export const SECRET = `s3cr3t-${randomUUID()}`;
process.env.ISOBOX_TEST_SECRET = SECRET;

/**
 * Marker in guest code, replaced by a single-quoted literal of a fresh /tmp/isobox-pwned-* path (only
 * [a-z0-9/-], so it is also safe inside a double-quoted string handed to a Function constructor).
 */
export const PWN = "__PWN__";

export type AttackJob = Omit<Job, "language"> & { language?: Job["language"] };

export interface AttackOutcome {
  r: RunResult;
  pwnPath: string;
  ms: number;
}

/** Direct children of a process, from /proc (empty where /proc is unavailable). */
export function childPids(pid: number): number[] {
  if (!pid || !existsSync("/proc")) return [];
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // process ended while we looked
    }
  }
  return out;
}

/** Host paths that must never reach a guest or its result. */
export const HOST_PATH = /file:\/\/|\/work\/|node_modules|\.ts:\d|src\/isolate|src\/pool|src\/host/;

export const OK_JOB: Job = {
  language: "javascript",
  code: "export default (input) => ({ fine: input })",
  input: 7,
  limits: { timeoutMs: 5000 },
};

/** The sandbox still runs an ordinary job correctly. */
export async function expectHealthy(sandbox: Sandbox): Promise<void> {
  const r = await sandbox.run(OK_JOB);
  expect(r.status).toBe("ok");
  expect(r.value).toEqual({ fine: 7 });
}

/** What must hold for any result, whatever the guest did. */
export function expectHostUntouched(r: RunResult, pwnPath?: string): void {
  expect(RunResultSchema.safeParse(r).success).toBe(true);
  expect(JSON.stringify(r)).not.toContain(SECRET);
  if (pwnPath) expect(existsSync(pwnPath)).toBe(false);
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

/**
 * Run one attack: substitutes PWN in the code, runs it, checks the host saw nothing and no child
 * process appeared under the sandbox host process. The caller asserts the status itself.
 */
export async function attack(sandbox: Sandbox, job: AttackJob, opts: { healthy?: boolean } = {}): Promise<AttackOutcome> {
  const pwnPath = `/tmp/isobox-pwned-${randomUUID()}`;
  const code = job.code.split(PWN).join(`'${pwnPath}'`);
  const hostPid = sandbox.hostPid;
  const childrenBefore = childPids(hostPid);
  const t = performance.now();
  const r = await sandbox.run({ language: "javascript", limits: { timeoutMs: 5000 }, ...job, code } as Job);
  const ms = performance.now() - t;
  expectHostUntouched(r, pwnPath);
  if (sandbox.hostPid === hostPid) expect(childPids(hostPid).filter((p) => !childrenBefore.includes(p))).toEqual([]);
  if (opts.healthy !== false) await expectHealthy(sandbox);
  return { r, pwnPath, ms };
}

/** Guest snippet: the typical payload once a Function constructor is in hand. */
export const PAYLOAD = `return process.mainModule.require("fs").writeFileSync(${PWN}, process.env.ISOBOX_TEST_SECRET)`;
