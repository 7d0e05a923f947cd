// Hostile container suite: each test names one attack a job makes from inside its container, and
// asserts a clear status, that the host saw nothing, and that the container is gone afterwards.
// Network tests aim only at the host's loopback.
import { createServer, type Server } from "node:net";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSandbox, RunResultSchema, type Job, type RunResult, type Sandbox } from "../../src/index.ts";
import { SECRET } from "../hostile/helpers.ts";
import { DEFAULT_MAX_FS_BYTES } from "../../src/contract/limits.ts";
import { cpuTimeout, outputFilesTooLarge, wallTimeout } from "../../src/contract/outcomes.ts";
import { describeDocker, leftovers } from "./docker.ts";

/** Containers are removed in the background after a result: wait (bounded) until none is left. */
async function expectNoLeftovers(): Promise<void> {
  const until = performance.now() + 10_000;
  let left = await leftovers();
  while (left.length > 0 && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    left = await leftovers();
  }
  expect(left).toEqual([]);
}

describeDocker("hostile container jobs", () => {
  let sandbox: Sandbox;
  const hostSecretFile = `/tmp/isobox-host-secret-${randomUUID()}`;

  beforeAll(async () => {
    writeFileSync(hostSecretFile, SECRET);
    // No warm containers: every attack gets its own cold container, so "nothing left" is exact.
    sandbox = await createSandbox({ concurrency: 1, warm: { javascript: 1, container: 0 }, container: { enabled: true } });
  }, 60_000);
  afterAll(async () => {
    rmSync(hostSecretFile, { force: true });
    await sandbox?.close();
    expect(await leftovers()).toEqual([]);
  }, 60_000);

  async function attack(code: string, extra: Partial<Job> = {}): Promise<RunResult> {
    const r = await sandbox.run({ language: "python", code, backend: "container", limits: { timeoutMs: 20_000 }, ...extra } as Job);
    expect(RunResultSchema.safeParse(r).success).toBe(true);
    expect(r.backend).toBe("container");
    expect(JSON.stringify(r)).not.toContain(SECRET);
    await expectNoLeftovers();
    return r;
  }

  it("egress: a connect to a port listening on the host's loopback never arrives", async () => {
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await attack(
        `import socket\ns = socket.socket()\ns.settimeout(2)\ntry:\n    s.connect(("127.0.0.1", ${port}))\n    out = "connected"\nexcept OSError as e:\n    out = type(e).__name__\nout`,
      );
      expect(r.status).toBe("ok");
      expect(r.value).not.toBe("connected");
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it("egress: the container has no network interface but lo", async () => {
    const r = await attack("import socket\nsorted(n for _, n in socket.if_nameindex())");
    expect(r.value).toEqual(["lo"]);
  });

  it("reading host files: a file on the host's /tmp and the checkout are not there", async () => {
    const r = await attack(
      `import os\n[os.path.exists(${JSON.stringify(hostSecretFile)}), os.path.exists("/work"), os.path.exists(${JSON.stringify(process.cwd())})]`,
    );
    expect(r.value).toEqual([false, false, false]);
  });

  it("writing to the root filesystem fails (read-only), nothing reaches the host", async () => {
    const pwn = `/tmp/isobox-pwned-${randomUUID()}`;
    const r = await attack(
      `errs = []\nfor p in ["/usr/lib/python3/dist-packages/evil.py", "/etc/evil", "/opt/isobox/runner.py", "${pwn}"]:\n    try:\n        open(p, "w").write("x")\n        errs.append("wrote " + p)\n    except OSError as e:\n        errs.append(e.errno)\nerrs`,
    );
    expect(r.status).toBe("ok");
    // /tmp is the container's own tmpfs: writing there is allowed and stays inside the container
    // EROFS or EACCES (nobody owns nothing there either); never "wrote …"
    for (const v of (r.value as unknown[]).slice(0, 3)) expect([13, 30]).toContain(v);
    expect(existsSync(pwn)).toBe(false);
  });

  it("filling the tmpfs stops at maxFsBytes with ENOSPC", async () => {
    const r = await attack(
      "import errno\nf = open('big', 'wb')\nn = 0\ntry:\n    while True:\n        f.write(b'x' * (1 << 20)); f.flush(); n += 1\nexcept OSError as e:\n    res = [e.errno == errno.ENOSPC, n]\nres",
      { limits: { timeoutMs: 20_000, maxFsBytes: 8 << 20 } },
    );
    expect(r.status).toBe("ok");
    const [enospc, mib] = r.value as [boolean, number];
    expect(enospc).toBe(true);
    expect(mib).toBeLessThanOrEqual(8);
  });

  it("fork bomb: the pids limit stops it and the job ends with a clear status", async () => {
    const r = await attack(
      "import os\nkids = 0\ntry:\n    while True:\n        if os.fork() == 0:\n            import time; time.sleep(30); os._exit(0)\n        kids += 1\nexcept OSError as e:\n    out = ['stopped', kids]\nout",
      { limits: { timeoutMs: 15_000 } },
    );
    // gVisor's RLIMIT_NPROC answers EAGAIN (ok); under ptrace each guest process also costs a host
    // stub charged to the memory cgroup, so at small memoryMb the cgroup may kill it first (memory).
    expect(["ok", "memory"]).toContain(r.status);
    if (r.status === "ok") expect((r.value as [string, number])[1]).toBeLessThan(200);
  }, 40_000);

  it("memory bomb: growing past memoryMb ends as status memory", async () => {
    const r = await attack("chunks = []\nwhile True:\n    chunks.append(bytearray(16 << 20))", {
      limits: { timeoutMs: 20_000, memoryMb: 128 },
    });
    expect(r.status).toBe("memory");
    expect(r.error?.name).toBe("MemoryError");
    expect(r.error?.message).toMatch(/^Job exceeded its memory limit of 128 MB/); // the isolate's wording, maybe with the exit as detail
  });

  it("setuid/capability escalation: setuid(0) is refused, no capabilities, no_new_privs set", async () => {
    const r = await attack(
      "import os\ntry:\n    os.setuid(0); su = 'root'\nexcept PermissionError:\n    su = 'refused'\nimport ctypes\nst = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\nnnp = ctypes.CDLL(None).prctl(39, 0, 0, 0, 0)\n[su, os.getuid(), st['CapEff'].strip(), nnp]",
    );
    expect(r.value).toEqual(["refused", 65534, "0000000000000000", 1]); // prctl(PR_GET_NO_NEW_PRIVS)
  });

  it("escalation via mount(2) and chroot is refused", async () => {
    const r = await attack(
      "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nm = libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)\ne1 = ctypes.get_errno()\ntry:\n    os.chroot('/tmp'); c = 'chrooted'\nexcept PermissionError:\n    c = 'refused'\n[m, e1, c]",
    );
    expect(r.value).toEqual([-1, 1, "refused"]);
  });

  it("looking for the Docker socket finds none anywhere in the container", async () => {
    const r = await attack(
      "import os, stat\nfound = []\nfor root in ['/run', '/var', '/tmp', '/home', '/']:\n    for d, dirs, files in os.walk(root):\n        if d.startswith('/proc') or d.startswith('/sys'):\n            dirs[:] = []; continue\n        for f in files:\n            p = os.path.join(d, f)\n            try:\n                if stat.S_ISSOCK(os.lstat(p).st_mode) or 'docker' in f and f.endswith('.sock'): found.append(p)\n            except OSError: pass\nsorted(set(found))",
    );
    expect(r.status).toBe("ok");
    expect(r.value).toEqual([]);
  }, 40_000);

  it("/proc/self/environ and /proc/1/environ show no host environment", async () => {
    const r = await attack("[open('/proc/self/environ','rb').read().decode(), open('/proc/1/environ','rb').read().decode()]");
    expect(r.status).toBe("ok");
    const text = (r.value as string[]).join("\n");
    expect(text).not.toContain("ISOBOX_TEST_SECRET");
    expect(text).not.toContain(process.env.HOME ?? "/root-home-not-set");
  });

  it("the kernel it sees is gVisor's, not the host's", async () => {
    const r = await attack("open('/proc/version').read()");
    expect(r.value).not.toContain(readFileSync("/proc/version", "utf8").split(" ")[2]!);
  });

  it("an output file that is a symlink to /etc/passwd is not returned", async () => {
    const r = await attack(
      "import os\nos.symlink('/etc/passwd', 'output/passwd.txt')\nos.symlink('/etc', 'output/etc')\nopen('output/ok.txt','w').write('ok')",
    );
    expect(r.status).toBe("ok");
    expect(r.files.map((f) => f.path)).toEqual(["output/ok.txt"]);
  });

  it("a huge (sparse) output file is output_limit, not a 10 GB read", async () => {
    const t = performance.now();
    const r = await attack("f = open('output/huge.bin', 'wb')\nf.truncate(10 << 30)\nf.close()");
    expect(r.status).toBe("output_limit");
    expect(r.files).toEqual([]);
    expect(r.error).toEqual(outputFilesTooLarge(DEFAULT_MAX_FS_BYTES).error);
    expect(performance.now() - t).toBeLessThan(15_000);
  });

  it("path-traversal output names forged onto the runner's channel are dropped", async () => {
    const r = await attack(
      "import sys, base64\nrunner = sys.modules['__main__']\nfor p in ['../../../tmp/evil', '/etc/evil', 'output/../main.py', 'output/a\\nb.txt']:\n    runner.send({'t': 'file', 'path': p, 'data': base64.b64encode(b'x').decode(), 'end': True})\nopen('output/real.txt','w').write('r')",
    );
    expect(r.status).toBe("ok");
    expect(r.files.map((f) => f.path).sort()).toEqual(["output/a_b.txt", "output/real.txt"]);
  });

  it("garbage bytes on the protocol channel end the job as a ProtocolError", async () => {
    const r = await attack(
      "import sys, os\nos.write(sys.modules['_isobox_channel']._proto, b'not json at all\\n')\nimport time; time.sleep(5)",
    );
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("ProtocolError");
  });

  it("an endless line on the protocol channel is capped, not buffered", async () => {
    const r = await attack(
      "import sys, os\nfd = sys.modules['_isobox_channel']._proto\nchunk = b'x' * (1 << 20)\nwhile True:\n    os.write(fd, chunk)",
      { limits: { timeoutMs: 20_000, maxOutputBytes: 1 << 16 } },
    );
    expect(r.status).toBe("error");
    expect(r.error?.message).toMatch(/longer than/);
  });

  it("a job sleeping past its timeout is killed and its container removed", async () => {
    const r = await attack("import time\ntime.sleep(120)", { limits: { timeoutMs: 1_000 } });
    expect(r.status).toBe("timeout");
    expect(r.error).toEqual(wallTimeout(1_000).error);
  });

  it("a CPU spin past cpuTimeMs ends as timeout", async () => {
    const r = await attack("while True: pass", { limits: { timeoutMs: 20_000, cpuTimeMs: 1_000 } });
    expect(r.status).toBe("timeout");
    expect(r.usage.wallMs).toBeLessThan(15_000);
    expect(r.error).toEqual(cpuTimeout(1_000).error); // SIGXCPU of the runner's rlimit, in the isolate's words
  });

  it("the runner killing itself ends the job with a clear status, and the next job runs", async () => {
    const r = await attack("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)");
    expect(r.status).toBe("crashed");
    expect(r.error?.name).toBe("ContainerCrashed");
    const next = await attack("1 + 1");
    expect(next).toMatchObject({ status: "ok", value: 2 });
  });
});
