// Runs in: the embedding process. What a container job hands back besides its value, under the
// isolate's rules and through the same implementations: stdout/stderr through OutputCap (one
// maxOutputBytes rule, streamed per line), output files assembled from chunk frames and then put
// through harvestFiles (the same name checks, dedupe, sort and caps as an isolate's files).
import type { JobIO } from "../contract/backend.ts";
import { outputFilesTooLarge, protocolError, tooManyOutputFiles, type Outcome } from "../contract/outcomes.ts";
import type { OutputFile } from "../contract/result.ts";
import { OutputCap } from "../output/cap.ts";
import { MAX_OUTPUT_FILES } from "../contract/limits.ts";
import { harvestFiles } from "../vfs/harvest.ts";

/** stdout and stderr as the job printed them, up to maxOutputBytes together. */
export class OutputText {
  readonly text: Record<1 | 2, string> = { 1: "", 2: "" };
  readonly #cap: OutputCap;
  readonly #io: Pick<JobIO, "onOutput" | "stream">;

  constructor(maxBytes: number, io: Pick<JobIO, "onOutput" | "stream">) {
    this.#cap = new OutputCap(maxBytes);
    this.#io = io;
  }

  /**
   * One `out` frame's lines (`open`: the last one had no newline). False once the cap is crossed:
   * what fits is kept, and only whole lines were streamed to the caller.
   */
  add(fd: 1 | 2, lines: string[], open = false): boolean {
    const kept: string[] = [];
    for (const [i, line] of lines.entries()) {
      const text = open && i === lines.length - 1 ? line : line + "\n";
      this.text[fd] += this.#cap.take(text);
      if (this.#cap.over) break;
      kept.push(line);
    }
    if (kept.length && (fd === 1 ? this.#io.stream.stdout : this.#io.stream.stderr)) this.#io.onOutput(fd, kept);
    return !this.#cap.over;
  }
}

/**
 * Files from `file` frames, assembled while the job runs. The runner sends one file at a time, in
 * chunks, and caps them itself; but the job shares the runner's process and can forge frames, so
 * what is held here is bounded by the bytes of the files, never by the number of frames (threat:
 * empty or one-byte chunk frames, or never-finished files, in a loop filling the embedding
 * process's memory): one file is open at a time, its chunks are copied into one growing buffer as
 * they come, and the finished list goes through harvestFiles.
 */
export class OutputFiles {
  readonly #maxBytes: number;
  readonly #done: { path: string; bytes: Uint8Array }[] = [];
  #open: { path: string; buffer: Buffer; length: number } | undefined;
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** One chunk of `path` (`end`: its last); an Outcome once a cap is crossed or the frames are forged. */
  add(path: string, data: string, end: boolean): Outcome | undefined {
    const chunk = Buffer.from(data, "base64");
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxBytes) return outputFilesTooLarge(this.#maxBytes);
    if (this.#open && this.#open.path !== path) return protocolError("chunks of two output files at once");
    if (!this.#open) {
      if (this.#done.length >= MAX_OUTPUT_FILES) return tooManyOutputFiles(`more than ${MAX_OUTPUT_FILES}`, MAX_OUTPUT_FILES);
      this.#open = { path, buffer: Buffer.alloc(Math.min(Math.max(chunk.length, 4096), this.#maxBytes)), length: 0 };
    }
    const open = this.#open;
    if (open.length + chunk.length > open.buffer.length) {
      // Doubling, capped by maxFsBytes: amortised copies, and never more than twice the file held.
      const grown = Buffer.alloc(Math.min(Math.max(open.buffer.length * 2, open.length + chunk.length), this.#maxBytes));
      open.buffer.copy(grown, 0, 0, open.length);
      open.buffer = grown;
    }
    chunk.copy(open.buffer, open.length);
    open.length += chunk.length;
    if (!end) return undefined;
    this.#open = undefined;
    this.#done.push({ path, bytes: open.buffer.subarray(0, open.length) }); // harvestFiles copies it out
    return undefined;
  }

  /** The finished files, checked, named and capped as an isolate's are; an Outcome when over a cap. */
  harvest(): OutputFile[] | Outcome {
    const harvested = harvestFiles(this.#done, this.#maxBytes);
    return "error" in harvested ? { status: "output_limit", error: harvested.error } : harvested.files;
  }
}
