// The job's virtual filesystem: `files` in under /home/user, `/home/user/output/**` back in
// `files` with MIME types; JS/TS through isobox:fs, Python through open/os/pathlib.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../src/index.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ concurrency: 2, warm: { javascript: 2, python: 1 } });
});
afterAll(async () => {
  await sandbox.close();
});

const binary = new Uint8Array(256).map((_, i) => i);

describe("files in JavaScript guests (isobox:fs)", () => {
  it("reads the job's files, writes output files that come back with MIME types, binary byte for byte", async () => {
    const r = await sandbox.run({
      language: "javascript",
      files: { "data/in.csv": "a,b\n1,2\n", "blob.bin": binary },
      code: `import { readFile, writeFile, mkdir, readdir, stat } from "isobox:fs";
        export default async () => {
          const csv = await readFile("data/in.csv", "utf8");
          const blob = await readFile("/home/user/blob.bin");
          await mkdir("output/charts", { recursive: true });
          await writeFile("output/report.json", JSON.stringify({ csv }));
          await writeFile("output/charts/copy.bin", blob);
          return { csv, size: (await stat("blob.bin")).size, root: await readdir("."), isDir: (await stat("data")).isDirectory() };
        }`,
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual({ csv: "a,b\n1,2\n", size: 256, root: ["blob.bin", "data", "output"], isDir: true });
    expect(r.files.map((f) => [f.path, f.mimeType])).toEqual([
      ["output/charts/copy.bin", "application/octet-stream"],
      ["output/report.json", "application/json"],
    ]);
    expect(Array.from(r.files[0]!.bytes)).toEqual(Array.from(binary));
  });

  it("gives Node-style errors (ENOENT, EISDIR, ENOSPC) and keeps every path inside the virtual root", async () => {
    const r = await sandbox.run({
      language: "javascript",
      limits: { maxFsBytes: 1000 },
      code: `import * as fs from "isobox:fs";
        const code = (p) => p.then(() => "ok", (e) => e.code);
        export default async () => ({
          missing: await code(fs.readFile("nope.txt")),
          dir: await code(fs.readFile("output")),
          full: await code(fs.writeFile("big.txt", "x".repeat(2000))),
          escape: await (async () => { await fs.writeFile("../../../../tmp/climbed.txt", "x"); return fs.readdir("/tmp"); })(),
        })`,
    });
    expect(r.value).toEqual({ missing: "ENOENT", dir: "EISDIR", full: "ENOSPC", escape: ["climbed.txt"] });
  });

  it("rejects job files whose names climb out of /home/user or are absolute", async () => {
    for (const name of ["../escape.txt", "/etc/passwd", "a/../../b", "nul\u0000byte"]) {
      const r = await sandbox.run({ language: "javascript", code: "", files: { [name]: "x" } });
      expect(r.status, name).toBe("rejected");
      expect(r.error?.message).toMatch(/^files\./);
    }
  });

  it("rejects job files larger than maxFsBytes before anything runs", async () => {
    const r = await sandbox.run({ language: "javascript", code: "", files: { "a.txt": "x".repeat(2048) }, limits: { maxFsBytes: 1024 } });
    expect(r.status).toBe("rejected");
    expect(r.error?.message).toMatch(/maxFsBytes/);
  });
});

describe("files in Python guests (open, os, pathlib)", () => {
  it("reads input files from the cwd and returns what it writes under output/", async () => {
    const r = await sandbox.run({
      language: "python",
      files: { "in.csv": "name,n\nx,1\ny,2\n", "blob.bin": binary },
      code: `import csv, os, pathlib
rows = list(csv.DictReader(open("in.csv")))
pathlib.Path("output/sub").mkdir(parents=True, exist_ok=True)
pathlib.Path("output/sub/report.md").write_text("# total %d\\n" % sum(int(r["n"]) for r in rows))
open("output/copy.bin", "wb").write(open("blob.bin", "rb").read())
[os.getcwd(), len(rows)]`,
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual(["/home/user", 2]);
    expect(r.files.map((f) => [f.path, f.mimeType])).toEqual([
      ["output/copy.bin", "application/octet-stream"],
      ["output/sub/report.md", "text/markdown"],
    ]);
    expect(Buffer.from(r.files[1]!.bytes).toString()).toBe("# total 3\n");
    expect(Array.from(r.files[0]!.bytes)).toEqual(Array.from(binary));
  });

  it("holds writes to maxFsBytes with OSError ENOSPC, and rewriting a file does not use up the quota", async () => {
    const r = await sandbox.run({
      language: "python",
      limits: { maxFsBytes: 4 * 1024 * 1024 },
      code: `import errno
chunk = "x" * (1024 * 1024)
for i in range(20):
    with open("same.txt", "w") as f:
        f.write(chunk)
try:
    with open("big.txt", "w") as f:
        for i in range(10):
            f.write(chunk)
    result = "no error"
except OSError as e:
    result = e.errno == errno.ENOSPC
result`,
    });
    expect(r.status).toBe("ok");
    expect(r.value).toBe(true);
  });

  it("does not follow a symlink out of output/", async () => {
    const r = await sandbox.run({
      language: "python",
      code: `import os
os.symlink("/lib", "output/lib")
os.symlink("/home/user/secret.txt", "output/link.txt")
open("secret.txt", "w").write("s")
open("output/real.txt", "w").write("r")`,
    });
    expect(r.status).toBe("ok");
    expect(r.files.map((f) => f.path)).toEqual(["output/real.txt"]);
  });

  it("one job's files are never visible to the next", async () => {
    await sandbox.run({ language: "python", code: "open('left-behind.txt', 'w').write('x')" });
    const r = await sandbox.run({ language: "python", code: "import os\nos.path.exists('left-behind.txt')" });
    expect(r.value).toBe(false);
  });
});
