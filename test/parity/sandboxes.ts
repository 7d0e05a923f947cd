// The parity suites' sandboxes: one per backend per file, created before its tests and closed after.
// Every job is sent with `backend` set explicitly, so a case can never quietly run on the other one.
// The container side follows test/container/docker.ts: without a Docker daemon (with runsc and the
// image) its tests are skipped with the reason; with ISOBOX_REQUIRE_DOCKER=1 each of them fails.
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { createSandbox, RunResultSchema, type Job, type RunResult, type Sandbox, type SandboxOptions } from "../../src/index.ts";
import { leftovers, REQUIRE, unavailable } from "../container/docker.ts";

export const BACKENDS = ["isolate", "container"] as const;
export type Backend = (typeof BACKENDS)[number];

export interface ParitySandbox {
  readonly backend: Backend;
  readonly sandbox: Sandbox;
  /** A Python job on this backend; the result is checked against the public RunResult schema. */
  run(code: string, extra?: Partial<Job>): Promise<RunResult>;
}

/**
 * Call inside the `describe.each(BACKENDS)` body: registers the hooks that start the backend's
 * sandbox (`options` added to a small default) and close it, and answers jobs on that backend.
 */
export function paritySandbox(backend: Backend, options: SandboxOptions = {}): ParitySandbox {
  let sandbox: Sandbox | undefined;
  const missing = backend === "container" ? unavailable : undefined;
  if (missing) {
    console.warn(`parity suite, container backend: ${missing}`);
    beforeEach((ctx) => {
      if (REQUIRE)
        expect.fail(`needs a Docker daemon with runsc and the image (ISOBOX_REQUIRE_DOCKER=1): ${missing.replace(/^skipped: /, "")}`);
      ctx.skip(missing);
    });
  } else {
    beforeAll(async () => {
      sandbox = await createSandbox({
        concurrency: 1,
        warm: backend === "container" ? { javascript: 0, python: 0, container: 2 } : { javascript: 0, python: 1 },
        ...(backend === "container" ? { container: { enabled: true } } : {}),
        ...options,
      });
    }, 60_000);
    afterAll(async () => {
      await sandbox?.close();
      if (backend === "container") expect(await leftovers()).toEqual([]);
    }, 60_000);
  }
  return {
    backend,
    get sandbox(): Sandbox {
      if (!sandbox) throw new Error(`the ${backend} sandbox is not running`);
      return sandbox;
    },
    async run(code: string, extra: Partial<Job> = {}): Promise<RunResult> {
      const r = await this.sandbox.run({ language: "python", code, ...extra, backend } as Job);
      expect(RunResultSchema.safeParse(r).success, "the result matches RunResultSchema").toBe(true);
      return r;
    },
  };
}

/** A traceback without the caret lines under a source line (`~~^^`): CPython 3.11 (the container's
 * Debian) prints fewer of them than 3.14 (Pyodide), and they carry no information a frame lacks. */
export function withoutCarets(stack: string | undefined): string | undefined {
  return stack
    ?.split("\n")
    .filter((line) => !/^\s*[~^]+\s*$/.test(line))
    .join("\n");
}
