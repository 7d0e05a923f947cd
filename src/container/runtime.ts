// Runs in: the embedding process. The seam between the container backend and whatever starts its
// containers (Docker today, Kubernetes pods later: a new file implementing these two interfaces,
// not a copy of the backend). The backend owns sessions, the warm pool, profiles and the job's
// rules; a runtime only starts hardened guests with the in-container runner (runtimes/container/)
// as PID 1, carries its lines, and reports how it ended.
//
// Every byte that comes back over a connection is untrusted: the job shares the runner's process
// and can write anything onto the protocol stream. A runtime hands those bytes to a RunnerChannel
// (channel.ts), which frames, caps and schema-checks them before the backend sees a frame.
import type { Frame } from "./frames.ts";

/** What a guest container is sized for. Fixed at start: a cgroup's memory and a tmpfs cannot grow under runsc. */
export interface ContainerProfile {
  memoryMb: number;
  maxFsBytes: number;
}

export interface GuestSpec {
  profile: ContainerProfile;
  /** Import the usual modules before `ready` (runner.py `preload`): worth it for a warm guest, wasted on a cold one. */
  preload: boolean;
}

/** How a guest ended: its runner's exit status, or the runtime lost track of it (daemon gone). */
export type ExitInfo = { code: number; oomKilled: boolean } | { lost: string };

export type FrameListener = (frame: Frame, lineBytes: number) => void;

/**
 * One started guest whose runner has sent `ready`. Its one owner (the warm pool until a take, then
 * the backend) calls `dispose()` exactly once; that is the only disposal path (it removes the
 * container, killing it if it still runs). A connection serves one job, or one session's jobs in
 * turn, and is never handed to anything else.
 */
export interface RunnerConnection {
  /** The runtime's name for the guest (a container id, a pod name): for logs and diagnostics. */
  readonly id: string;
  /** False once the guest exited, was disposed, or its stream carried something no runner writes. */
  readonly alive: boolean;
  /** Resolves once the guest ended and its stream drained (so a last result frame is never lost). */
  readonly exited: Promise<ExitInfo>;
  /** One line to the runner's stdin (a job line, or an answer to a capability call). */
  send(line: string): void;
  /**
   * Routes the runner's frames to one job until the returned detach is called; a frame line may
   * carry a value of up to `maxValueBytes`. A stream broken before (a forged line) is reported at once.
   */
  listen(onFrame: FrameListener, onViolation: (why: string) => void, maxValueBytes: number): () => void;
  /** Stops the runner now (SIGKILL) but keeps the guest, so `exited` still tells why. */
  kill(): Promise<void>;
  /** Removes the guest; idempotent, never throws. */
  dispose(): Promise<void>;
}

export interface ContainerRuntime {
  /** Starts a guest and waits for its runner's `ready`; rejects (never returns a guest that is not ready). */
  start(spec: GuestSpec): Promise<RunnerConnection>;
  /** Removes guests left by an embedding process that died (threat: orphans holding host memory). */
  reapOrphans(): Promise<void>;
  /** Releases what the runtime itself holds (connections, watches); the backend disposes the guests first. */
  close?(): Promise<void>;
}

export function describeExit(e: ExitInfo): string {
  return "lost" in e ? `lost contact with the container runtime: ${e.lost}` : `exit code ${e.code}${e.oomKilled ? ", OOM-killed" : ""}`;
}
