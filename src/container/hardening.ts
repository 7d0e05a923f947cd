// Runs in: the embedding process. The one place a Docker guest container's settings are made: the
// threat list, mapped onto Docker's create options. Each line names the threat it answers; no
// Docker socket, host path or device is ever mounted (there is no Binds/Mounts/Devices key at all).
// Another runtime maps the same threats onto its own spec; where that spec cannot say one (a Pod has
// no pids limit), the runtime must enforce it another way or refuse to start.
import type Docker from "dockerode";
import type { GuestSpec } from "./runtime.ts";

const MiB = 1024 * 1024;
/** Processes and threads per container (threat: fork bomb exhausting the host's pid space).
 * Under runc the pids cgroup is the limit the guest meets. Under gVisor the cgroup also counts the
 * sandbox's own host threads (ptrace platform: one stub per guest thread), so hitting it kills the
 * whole sandbox; there RLIMIT_NPROC, which gVisor enforces itself, stops the guest first with
 * EAGAIN, and the larger cgroup limit stays as the host-side backstop. */
export const PIDS_LIMIT = { runc: 128, runsc: 1024 } as const;
const GUEST_NPROC = 64;
/** CPU per container, in CPUs (threat: one job starving the other jobs and the embedding app). */
const CPUS = 1;
/** Modules imported before the job arrives in a warm container (see runner.py `preload`). */
const PRELOAD = "numpy,pandas,matplotlib";

/** A guest's spec as Docker needs it: which image and OCI runtime, and the owner's labels. */
export interface SpecOptions extends GuestSpec {
  image: string;
  runtime: "runsc" | "runc";
  labels: Record<string, string>;
}

export function containerSpec(o: SpecOptions): Docker.ContainerCreateOptions {
  const fsBytes = Math.max(MiB, o.profile.maxFsBytes);
  const memory = o.profile.memoryMb * MiB;
  return {
    Image: o.image,
    User: "65534:65534", // nobody: no root inside, even before gVisor's own user namespace
    WorkingDir: "/home/user",
    Env: [`ISOBOX_PRELOAD=${o.preload ? PRELOAD : ""}`], // Docker adds only the image's ENV; the host's env never enters
    Labels: o.labels,
    // The job and all results travel over this attach stream. StdinOnce: when the embedding process
    // dies its attach closes, the runner reads EOF and exits, so an orphan stops on its own.
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    NetworkDisabled: true,
    HostConfig: {
      Runtime: o.runtime,
      NetworkMode: "none", // threat: egress, reaching the host's loopback or the metadata service
      ReadonlyRootfs: true, // threat: persisting or planting anything in the image's files
      Tmpfs: {
        // the only writable places, size-capped (threat: filling the host's disk or memory)
        "/tmp": `rw,noexec,nosuid,nodev,size=${fsBytes}`,
        "/home/user": `rw,noexec,nosuid,nodev,size=${fsBytes},uid=65534,gid=65534,mode=0700`,
      },
      CapDrop: ["ALL"], // threat: capability-based escalation (mount, ptrace, raw sockets, chown)
      SecurityOpt: ["no-new-privileges"], // threat: setuid binaries regaining root
      Privileged: false,
      PidsLimit: PIDS_LIMIT[o.runtime],
      Memory: memory,
      MemorySwap: memory, // no swap on top: memoryMb is the whole budget (threat: memory bomb)
      NanoCpus: CPUS * 1e9,
      // RLIMIT_NPROC counts per uid host-wide under runc (every container runs as 65534): gVisor only.
      Ulimits: [
        { Name: "nofile", Soft: 1024, Hard: 1024 },
        ...(o.runtime === "runsc" ? [{ Name: "nproc", Soft: GUEST_NPROC, Hard: GUEST_NPROC }] : []),
      ],
      IpcMode: "private",
      // Guest output goes over the attach stream only; a log driver would copy it to the host's disk
      // (threat: filling it with an endless print loop).
      LogConfig: { Type: "none", Config: {} },
      AutoRemove: false, // removed by the backend, after it read the exit status (OOM or not)
    },
  };
}
