// Red-team findings on the container backend: a job shares its runner's process and can write any
// frame onto the protocol channel (frames.ts: "a forger can only fool its own job; it cannot grow
// the embedding process's memory"). These forge `file` frames that cost the forger a few bytes
// each and the embedding process far more.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSandbox, RunResultSchema, type Sandbox } from "../../src/index.ts";
import { describeDocker } from "./docker.ts";

const MiB = 1024 * 1024;

/** Python that writes `frames` JSON frames (built by the expression `frame`, over `i`) onto the channel. */
function forge(frames: number, frame: string): string {
  return [
    "import os, sys, json",
    "f = os.fdopen(sys.modules['_isobox_channel']._proto, 'wb', closefd=False)",
    "pad = 'p' * 4000",
    "buf = []",
    `for i in range(${frames}):`,
    `    buf.append(json.dumps(${frame}))`,
    "    if len(buf) == 256:",
    "        f.write(('\\n'.join(buf) + '\\n').encode()); f.flush(); buf = []",
    "'forged'",
  ].join("\n");
}

describeDocker("red team: forged frames and the embedding process's memory", () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await createSandbox({ concurrency: 1, warm: { javascript: 1, container: 0 }, container: { enabled: true } });
  }, 60_000);
  afterAll(async () => {
    await sandbox?.close();
  }, 60_000);

  /** Runs the job and returns the embedding process's heap growth seen while it ran. */
  async function heapGrowth(code: string): Promise<{ grew: number; status: string }> {
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
    try {
      const r = await sandbox.run({ language: "python", backend: "container", code, limits: { timeoutMs: 60_000 } });
      expect(RunResultSchema.safeParse(r).success).toBe(true);
      return { grew: peak - before, status: r.status };
    } finally {
      clearInterval(sample);
    }
  }

  it("100,000 never-finished files with 4 KB names (empty chunks) do not hold ~400 MB in the embedding process", async () => {
    // OutputFiles.#open keeps one entry per path; an empty chunk costs nothing against maxFsBytes.
    const { grew } = await heapGrowth(forge(100_000, "{'t': 'file', 'path': 'output/%s%d' % (pad, i), 'data': '', 'end': False}"));
    expect(grew).toBeLessThan(48 * MiB);
  }, 120_000);

  it("4,000,000 one-byte chunks of one file (4 MB against a 64 MB maxFsBytes) do not hold ~300 MB in the embedding process", async () => {
    // Each chunk is its own Buffer (~125 bytes of heap per byte of file): maxFsBytes bounds bytes, not chunks.
    const { grew } = await heapGrowth(forge(4_000_000, "{'t': 'file', 'path': 'output/a', 'data': 'eA==', 'end': False}"));
    expect(grew).toBeLessThan(48 * MiB);
  }, 120_000);

  it("a result frame nested 2,000,000 deep is a ProtocolError for its job, not a stack overflow in the embedding process", async () => {
    const r = await sandbox.run({
      language: "python",
      backend: "container",
      limits: { timeoutMs: 30_000 },
      code: [
        "import os, sys",
        "fd = sys.modules['_isobox_channel']._proto",
        "deep = '[' * 2_000_000 + ']' * 2_000_000",
        `os.write(fd, ('{"t": "result", "kind": "ok", "value": ' + deep + ', "cpuMs": 1, "maxRssBytes": 1}\\n').encode())`,
        "import time; time.sleep(5)",
      ].join("\n"),
    });
    expect(r).toMatchObject({ status: "error", error: { name: "ProtocolError" } });
    expect(r.error?.message).toMatch(/nested deeper than 2000/);
    expect((await sandbox.run({ language: "python", backend: "container", code: "1 + 1" })).value).toBe(2);
  }, 90_000);
});
