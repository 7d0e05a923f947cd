// Runs in: the embedding process. DockerConnection: one container, from create to remove, as the
// backend's RunnerConnection. It owns the container and its attach stream; `dispose()` is its single
// disposal path (force remove, which also kills).
import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import { RunnerChannel } from "./channel.ts";
import { DockerStreamDemux } from "./docker-demux.ts";
import { containerSpec, type SpecOptions } from "./hardening.ts";
import type { ExitInfo, FrameListener, RunnerConnection } from "./runtime.ts";

/** How long the exit waits for the attach stream's last bytes (a result frame racing the exit status). */
const STREAM_DRAIN_MS = 500;

export class DockerConnection implements RunnerConnection {
  readonly id: string;
  readonly exited: Promise<ExitInfo>;
  readonly #container: Docker.Container;
  readonly #stream: Duplex;
  readonly #channel = new RunnerChannel();
  #disposed: Promise<void> | undefined;
  #dead = false;

  private constructor(container: Docker.Container, stream: Duplex, exited: Promise<ExitInfo>) {
    this.id = container.id;
    this.#container = container;
    this.#stream = stream;
    // The exit status can arrive before the last frames on the attach stream: report the exit only
    // once the stream ended (bounded wait), so a final result frame is never lost to that race.
    const drained = new Promise<void>((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
    });
    this.exited = exited.then(async (e) => {
      this.#dead = true;
      await Promise.race([drained, new Promise((r) => setTimeout(r, STREAM_DRAIN_MS))]);
      return e;
    });
    const demux = new DockerStreamDemux((bytes) => this.#channel.push(bytes));
    stream.on("data", (chunk: Buffer) => demux.push(chunk));
    stream.on("error", () => {
      /* the exit status (or its loss) reports what happened */
    });
  }

  /** Create, attach (before start, so `ready` cannot be missed) and start a container; wait for `ready`. */
  static async start(docker: Docker, spec: SpecOptions): Promise<DockerConnection> {
    const container = await docker.createContainer(containerSpec(spec));
    let conn: DockerConnection | undefined;
    try {
      const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
      const exited = container.wait({ condition: "next-exit" }).then(
        async (w: { StatusCode: number }) => ({ code: w.StatusCode, oomKilled: await oomKilled(container) }),
        (e: Error) => ({ lost: e.message }),
      );
      conn = new DockerConnection(container, stream, exited);
      const ready = conn.#channel.ready(conn.exited);
      await container.start();
      await ready;
      return conn;
    } catch (e) {
      await (conn ? conn.dispose() : container.remove({ force: true }).catch(() => {}));
      throw e;
    }
  }

  get alive(): boolean {
    return !this.#dead && !this.#disposed && this.#channel.violation === undefined;
  }

  listen(onFrame: FrameListener, onViolation: (why: string) => void, maxValueBytes: number): () => void {
    return this.#channel.listen(onFrame, onViolation, maxValueBytes);
  }

  send(line: string): void {
    this.#stream.write(line + "\n");
  }

  async kill(): Promise<void> {
    await this.#container.kill({ signal: "SIGKILL" }).catch(() => {
      /* already stopped or gone */
    });
  }

  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      this.#channel.close();
      this.#stream.destroy();
      await this.#container
        .remove({ force: true })
        .catch((e: { statusCode?: number }) => {
          if (e.statusCode !== 404 && e.statusCode !== 409) throw e;
        })
        .catch(() => {
          /* daemon gone: nothing left to remove through it */
        });
    })();
    return this.#disposed;
  }
}

/** Docker's OOMKilled flag, when the daemon still answers (under runsc it is not always set). */
async function oomKilled(container: Docker.Container): Promise<boolean> {
  try {
    return (await container.inspect()).State.OOMKilled === true;
  } catch {
    return false;
  }
}
