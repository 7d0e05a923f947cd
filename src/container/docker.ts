// Runs in: the embedding process (the sandbox host process has no sockets or child processes by
// design). DockerRuntime: the container backend's default ContainerRuntime, over dockerode. It checks
// the daemon, the runtime (gVisor's runsc by default) and the image once, at create; starts hardened
// containers (hardening.ts, where each setting names its threat); and labels every container with
// this process, so one whose embedding process died is found and removed (reapOrphans).
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import Docker from "dockerode";
import { IsoboxError } from "../contract/errors.ts";
import { DockerConnection } from "./docker-connection.ts";
import { defaultImage } from "./image.ts";
import type { ContainerRuntime, GuestSpec, RunnerConnection } from "./runtime.ts";

export interface DockerRuntimeOptions {
  image?: string;
  /** The OCI runtime: runsc (gVisor) unless told otherwise; runc shares the host kernel. */
  runtime?: "runsc" | "runc";
  socketPath?: string;
}

const LABEL = "isobox.container";

export class DockerRuntime implements ContainerRuntime {
  readonly image: string;
  readonly runtime: "runsc" | "runc";
  readonly #docker: Docker;
  /** Labels of every container this process starts: who owns it, so orphans can be told apart. */
  readonly #labels: Record<string, string>;

  private constructor(docker: Docker, image: string, runtime: "runsc" | "runc") {
    this.#docker = docker;
    this.image = image;
    this.runtime = runtime;
    this.#labels = { [LABEL]: "1", "isobox.owner": randomUUID(), "isobox.pid": String(process.pid), "isobox.host": hostname() };
  }

  /** Connects to the daemon and checks its runtime and the image; throws IsoboxError saying what to do. */
  static async create(opts: DockerRuntimeOptions = {}): Promise<DockerRuntime> {
    const socketPath = opts.socketPath ?? "/var/run/docker.sock";
    const docker = new Docker({ socketPath });
    const runtime = opts.runtime ?? "runsc";
    const image = opts.image ?? defaultImage();
    let info: { Runtimes?: Record<string, unknown> };
    try {
      info = (await docker.info()) as typeof info;
    } catch (e) {
      throw new IsoboxError("NO_DOCKER", `no Docker daemon at ${socketPath} (${(e as Error).message}); the container backend needs one`, {
        cause: e,
      });
    }
    if (!info.Runtimes?.[runtime]) {
      throw new IsoboxError(
        "NO_RUNTIME",
        `the Docker daemon has no "${runtime}" runtime (install gVisor and register runsc in /etc/docker/daemon.json)`,
      );
    }
    try {
      await docker.getImage(image).inspect();
    } catch (e) {
      throw new IsoboxError("NO_IMAGE", `container image ${image} not found: run \`npm run build:image\``, { cause: e });
    }
    if (runtime === "runc") {
      console.warn(
        "isobox: WARNING: the container backend runs guests under runc, not gVisor: guest code shares the host kernel directly. Use runsc for untrusted code.",
      );
    }
    return new DockerRuntime(docker, image, runtime);
  }

  start(spec: GuestSpec): Promise<RunnerConnection> {
    return DockerConnection.start(this.#docker, { ...spec, image: this.image, runtime: this.runtime, labels: this.#labels });
  }

  /** Containers left by an embedding process that died (same host, pid gone). */
  async reapOrphans(): Promise<void> {
    const filters = { label: [`${LABEL}=1`, `isobox.host=${hostname()}`] };
    const list = await this.#docker.listContainers({ all: true, filters }).catch(() => []);
    const orphans = list.filter((c) => !pidAlive(Number(c.Labels["isobox.pid"])));
    await Promise.all(
      orphans.map((c) =>
        this.#docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => {}),
      ),
    );
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
