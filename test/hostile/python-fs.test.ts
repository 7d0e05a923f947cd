// Hostile suite, Python part 4: the job's files. A guest replacing the filesystem functions the harvest
// calls (to hand the host views of the whole interpreter memory), and a guest growing files by
// truncate past maxFsBytes instead of by writes.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../src/index.ts";
import { pyAttack } from "./python-helpers.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ concurrency: 1, warm: { javascript: 0, python: 1 } });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
});

const MiB = 1024 * 1024;

/** The resident set of a process in bytes, from /proc (0 where /proc is unavailable). */
function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Run `fn` while sampling the sandbox host's RSS: its result and the peak growth over the start. */
async function withPeakRss<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const base = rssBytes(pid);
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 2);
  try {
    const value = await fn();
    peak = Math.max(peak, rssBytes(pid));
    return { value, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

describe("files: a forged harvest", () => {
  it("a job replacing FS.readFile (pyodide_js.FS and _module.FS) with 1-byte views of the wasm memory: the harvest copies each file's own bytes, not the memory", async () => {
    const code = `import js, pyodide_js
from pyodide.ffi import create_proxy
x = bytearray(120 * 1024 * 1024)  # grow the wasm memory the views will show
del x
m = pyodide_js._module
heap = getattr(m, "HEAP8", None)
buf = heap.buffer if heap is not None else m.memory.buffer
def forged(*args):
    return js.Uint8Array.new(buf, 0, 1)
p = create_proxy(forged)
for fs in (pyodide_js.FS, m.FS):
    fs.readFile = p
for i in range(6):
    with open(f"output/f{i}.txt", "w") as f:
        f.write(f"hello {i}")
buf.byteLength`;
    const pid = sandbox.hostPid;
    const { value: out, growth } = await withPeakRss(pid, () => pyAttack(sandbox, { code, limits: { timeoutMs: 10_000, memoryMb: 512 } }));
    const { r } = out;
    expect(r.status).toBe("ok");
    expect(r.value).toBeGreaterThan(100 * MiB); // the view's buffer is the whole interpreter memory
    expect((r.files ?? []).map((f) => [f.path, new TextDecoder().decode(f.bytes)])).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => [`output/f${i}.txt`, `hello ${i}`]),
    );
    // Before: the whole memory per file (measured +477 MB before the fix, +190 MB
    // after: the run itself grows its memory by 120 MB).
    if (pid) expect(growth).toBeLessThan(350 * MiB);
  }, 60_000);
});

describe("files: maxFsBytes by truncate", () => {
  for (const [name, grow] of [
    ["os.ftruncate(fd, 200 MiB)", "os.ftruncate(f.fileno(), n)"],
    ["os.truncate(path, 200 MiB)", "os.truncate(path, n)"],
    ["open(path, 'r+b').truncate(200 MiB)", "f.truncate(n)"],
  ] as const) {
    it(`${name} past the 64 MiB default fails with OSError ENOSPC, caught; shrinking gives the bytes back`, async () => {
      const code = `import errno, os
path = "output/big.bin"
n = 200 * 1024 * 1024
out = []
with open(path, "wb") as f:
    f.write(b"x" * 1024)
with open(path, "r+b") as f:
    try:
        ${grow}
        out.append("grew")
    except OSError as e:
        out.append(errno.errorcode.get(e.errno, e.errno))
out.append(os.path.getsize(path))
# 40 MiB twice: fits only if the first is given back by the shrink.
with open(path, "r+b") as f:
    os.ftruncate(f.fileno(), 40 * 1024 * 1024)
    os.ftruncate(f.fileno(), 0)
with open("output/other.bin", "wb") as g:
    g.write(b"y" * (40 * 1024 * 1024))
os.truncate(path, 20 * 1024 * 1024)
out.append(os.path.getsize(path))
os.remove(path)
os.remove("output/other.bin")
out`;
      const { r } = await pyAttack(sandbox, { code, limits: { timeoutMs: 20_000, memoryMb: 512 } });
      expect(r.status).toBe("ok");
      expect(r.value).toEqual(["ENOSPC", 1024, 20 * MiB]);
    }, 60_000);
  }

  it("truncate growth adds up across files: three files of 30 MiB by os.ftruncate, the third is refused", async () => {
    const code = `import errno, os
out = []
for i in range(3):
    with open(f"output/t{i}.bin", "wb") as f:
        try:
            os.ftruncate(f.fileno(), 30 * 1024 * 1024)
            out.append("ok")
        except OSError as e:
            out.append(errno.errorcode.get(e.errno, e.errno))
for i in range(3):
    os.remove(f"output/t{i}.bin")
out`;
    const { r } = await pyAttack(sandbox, { code, limits: { timeoutMs: 20_000, memoryMb: 512 } });
    expect(r).toMatchObject({ status: "ok", value: ["ok", "ok", "ENOSPC"] });
  }, 60_000);
});
