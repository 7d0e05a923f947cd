// `npm run build:image`: builds the container image without any registry. debootstrap makes a
// minimal Debian bookworm root with the packages of packages.txt (cached per package list), the
// runner is added, and `docker import` turns it into `isobox-python:<recipe hash>` (+ `:latest`).
// Where a registry is reachable, `npm run build:image -- --dockerfile` builds the same recipe from
// runtimes/container/Dockerfile instead. Needs root (debootstrap, chroot) and a Docker daemon.
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { IMAGE_FILES, IMAGE_REPOSITORY, RECIPE_DIR, defaultImage, imagePackages } from "../../src/container/image.ts";

const SUITE = "bookworm";
const MIRROR = process.env.DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
const CACHE = process.env.ISOBOX_IMAGE_CACHE ?? "/var/cache/isobox-image";
const force = process.argv.includes("--force");

/** Settings baked into the image (the Dockerfile sets the same ones). */
const IMAGE_CONFIG = [
  "ENV PATH=/usr/local/bin:/usr/bin:/bin",
  "ENV HOME=/home/user",
  "ENV LANG=C.UTF-8",
  "ENV MPLBACKEND=Agg",
  "ENV MPLCONFIGDIR=/tmp/isobox-mpl",
  "WORKDIR /home/user",
  "USER 65534:65534",
  'CMD ["python3", "-I", "-B", "/opt/isobox/runner.py"]',
];

function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(" ")}… failed (${r.error?.message ?? `exit ${r.status}`})`);
  return r.stdout?.toString() ?? "";
}

function imageExists(ref: string): boolean {
  return spawnSync("docker", ["image", "inspect", ref], { stdio: "ignore" }).status === 0;
}

/** The debootstrapped root for this package list, made once and kept in the cache. */
function rootfs(): string {
  const packages = imagePackages();
  const key = createHash("sha256").update(`${SUITE}\n${packages.join("\n")}`).digest("hex").slice(0, 16);
  const dir = `${CACHE}/rootfs-${key}`;
  if (existsSync(`${dir}/.complete`)) return dir;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  console.log(`debootstrap ${SUITE} with ${packages.length} packages from ${MIRROR} (a few minutes)…`);
  sh("debootstrap", ["--variant=minbase", `--include=${packages.join(",")}`, SUITE, tmp, MIRROR], { stdio: ["ignore", "inherit", "inherit"] });
  trim(tmp);
  writeFileSync(`${tmp}/.complete`, new Date().toISOString());
  renameSync(tmp, dir);
  return dir;
}

/** Drop what a job never needs: package caches, docs, and the C compiler pythran pulls in (fewer
 * tools for a guest to build native code with). */
function trim(root: string): void {
  for (const p of ["var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/lib/gcc"]) {
    rmSync(`${root}/${p}`, { recursive: true, force: true });
    mkdirSync(`${root}/${p}`, { recursive: true });
  }
  sh("sh", ["-c", `rm -f ${root}/usr/bin/*gcc* ${root}/usr/bin/*g++* ${root}/usr/bin/cc ${root}/usr/bin/c++ ${root}/usr/bin/cpp* ${root}/usr/bin/x86_64-linux-gnu-*`]);
}

/** Add the runner (and the modules it loads), the job's home and a pre-built matplotlib font cache to the cached root. */
function stage(root: string): void {
  mkdirSync(`${root}/opt/isobox/mpl`, { recursive: true });
  for (const f of IMAGE_FILES) cpSync(`${RECIPE_DIR}${f}`, `${root}/opt/isobox/${basename(f)}`);
  mkdirSync(`${root}/home/user`, { recursive: true });
  // Building the font cache takes seconds; done once here instead of in every job.
  sh("chroot", [root, "env", "MPLCONFIGDIR=/opt/isobox/mpl", "MPLBACKEND=Agg", "python3", "-c", "import matplotlib.font_manager"]);
}

function importImage(root: string, ref: string): void {
  const changes = IMAGE_CONFIG.flatMap((c) => ["--change", c]);
  const tar = spawnSync("sh", ["-c", `tar --numeric-owner --exclude=./.complete -C '${root}' -c . | docker import ${changes.map((c) => `'${c}'`).join(" ")} - '${ref}'`], { stdio: "inherit" });
  if (tar.status !== 0) throw new Error("docker import failed");
  sh("docker", ["tag", ref, `${IMAGE_REPOSITORY}:latest`]);
}

function buildFromDockerfile(ref: string): void {
  // The context is runtimes/: the image takes the Python capability module from runtimes/python/.
  sh("docker", ["build", "-t", ref, "-t", `${IMAGE_REPOSITORY}:latest`, "-f", `${RECIPE_DIR}Dockerfile`, `${RECIPE_DIR}..`], { stdio: ["ignore", "inherit", "inherit"] });
}

const ref = defaultImage();
if (!force && imageExists(ref)) {
  console.log(`${ref} is already built`);
} else {
  const t = performance.now();
  if (process.argv.includes("--dockerfile")) buildFromDockerfile(ref);
  else {
    const root = rootfs();
    stage(root);
    importImage(root, ref);
  }
  // Images of earlier recipes are a gigabyte each and nothing refers to them any more.
  for (const old of sh("docker", ["images", IMAGE_REPOSITORY, "--format", "{{.Repository}}:{{.Tag}}"]).split("\n")) {
    if (old && old !== ref && !old.endsWith(":latest")) spawnSync("docker", ["rmi", old], { stdio: "ignore" });
  }
  const size = Number(sh("docker", ["image", "inspect", "-f", "{{.Size}}", ref]).trim());
  console.log(`built ${ref} (${(size / 1e6).toFixed(0)} MB) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
