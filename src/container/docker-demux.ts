// Runs in: the embedding process. Docker's multiplexed attach stream (8-byte headers: stream type,
// 0 0 0, big-endian payload length) split back into the container's stdout bytes. Hand-rolled
// rather than docker-modem's demuxStream because that one re-concatenates its whole buffer per chunk
// (quadratic on large outputs, threat: a job stalling the embedding process with a big print) and
// has no size cap; this one holds at most one 8-byte header, and the line cap is FrameReader's.
const STDOUT = 1;

export class DockerStreamDemux {
  readonly #onStdout: (bytes: Buffer) => void;
  #header = Buffer.alloc(0);
  #remaining = 0;
  #streamType = 0;

  constructor(onStdout: (bytes: Buffer) => void) {
    this.#onStdout = onStdout;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#remaining === 0) {
        const need = 8 - this.#header.length;
        this.#header = Buffer.concat([this.#header, chunk.subarray(at, at + need)]);
        at += Math.min(need, chunk.length - at);
        if (this.#header.length < 8) return;
        this.#streamType = this.#header[0]!;
        this.#remaining = this.#header.readUInt32BE(4);
        this.#header = Buffer.alloc(0);
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - at);
      // Only the container's stdout carries frames; its stderr (the runner redirects fd 2 into a
      // framed pipe) gets nothing but an interpreter dying before the redirect, which is ignored.
      if (this.#streamType === STDOUT) this.#onStdout(chunk.subarray(at, at + take));
      this.#remaining -= take;
      at += take;
    }
  }
}
