// Python variant of the hostile suite's `attack()`: runs the job as Python with modest limits, keeps
// every host-side check of helpers.ts (pwned file, secret, child processes, prototype pollution), adds
// "no host path in what the guest saw", and checks that a normal *Python* job still runs afterwards.
import { expect } from "vitest";
import type { Job, Limits, RunResult, Sandbox } from "../../src/index.ts";
import { attack, HOST_PATH, type AttackJob, type AttackOutcome } from "./helpers.ts";

export { PWN, SECRET } from "./helpers.ts";

/** Limits of an attack unless it says otherwise: short, and the JS default memory cap. */
export const PY_LIMITS: Partial<Limits> = { timeoutMs: 3000, memoryMb: 128 };

export const PY_OK_JOB: Job = {
  language: "python",
  code: "import sys\n{'fine': input, 'py': list(sys.version_info[:2])}",
  input: 7,
  limits: { timeoutMs: 5000 },
};

/** The sandbox still runs an ordinary Python job correctly. */
export async function expectPyHealthy(sandbox: Sandbox): Promise<void> {
  const r = await sandbox.run(PY_OK_JOB);
  expect(r.status).toBe("ok");
  expect(r.value).toEqual({ fine: 7, py: [3, 14] });
}

/** Nothing the guest printed, returned or raised names a host path (file://, /work/, node_modules…). */
export function expectNoHostPath(r: RunResult): void {
  expect(JSON.stringify({ value: r.value ?? null, stdout: r.stdout, stderr: r.stderr, error: r.error ?? null })).not.toMatch(HOST_PATH);
}

/** The sandbox host process is still alive (signal 0 only probes). */
export function expectAlive(pid: number): void {
  expect(() => process.kill(pid, 0)).not.toThrow();
}

/** One Python attack: the shared host checks, no host path, then a healthy Python job. */
export async function pyAttack(sandbox: Sandbox, job: AttackJob, opts: { healthy?: boolean } = {}): Promise<AttackOutcome> {
  const out = await attack(sandbox, { ...job, language: "python", limits: { ...PY_LIMITS, ...job.limits } }, { healthy: false });
  expectNoHostPath(out.r);
  expect(out.r.backend).toBe("isolate");
  if (opts.healthy !== false) await expectPyHealthy(sandbox);
  return out;
}

/** Statuses a Python job may end with when it was stopped for memory, with the cap holding. */
export const REFUSED = ["memory", "error"];
