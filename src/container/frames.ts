// Runs in: the embedding process. The runner's frames (runtimes/container/runner.py): JSON lines on
// the runner's stdout, whichever runtime carried the bytes. Everything here is untrusted: the job
// shares the runner's process and can write any bytes onto the protocol fd. Each frame is a JSON
// line checked by a schema, and lines are capped, so a forger can only ever fool (or fail) its own
// job; it cannot grow the embedding process's memory (the MCP SDK's ReadBuffer: cap, then parse).
import { z } from "zod";
import { MAX_VALUE_DEPTH, nestedDeeperThan } from "../contract/limits.ts";
import { CapabilityCallSchema } from "../contract/calls.ts";

const text = z.string().max(1 << 20);

const FrameSchema = z.discriminatedUnion("t", [
  z.strictObject({ t: z.literal("ready") }),
  z.strictObject({
    t: z.literal("out"),
    fd: z.union([z.literal(1), z.literal(2)]),
    lines: z.array(z.string()).max(1 << 16),
    open: z.literal(true).optional(),
  }),
  z.strictObject({ t: z.literal("file"), path: z.string().max(4096), data: z.string(), end: z.boolean() }),
  // A capability call (`from isobox import host, fetch`): answered on stdin with the same id.
  z.strictObject({
    t: z.literal("call"),
    id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    kind: CapabilityCallSchema.shape.kind,
    name: CapabilityCallSchema.shape.name,
    args: CapabilityCallSchema.shape.argsJson,
  }),
  z.strictObject({
    t: z.literal("result"),
    kind: z.enum(["ok", "error", "memory", "too_big", "output_limit"]),
    value: z.unknown().optional(),
    error: z.strictObject({ name: text, message: text, stack: text.optional() }).optional(),
    size: z.number().nonnegative().optional(),
    message: text.optional(),
    cpuMs: z.number().nonnegative().max(1e12),
    maxRssBytes: z.number().nonnegative().max(1e15),
  }),
]);
export type Frame = z.infer<typeof FrameSchema>;
export type ResultFrame = Extract<Frame, { t: "result" }>;

/**
 * Splits the runner's stdout bytes (in chunks of any size) into JSON lines and checks each one.
 * Keeps at most `maxLine` bytes of an unfinished line (threat: an endless line buffered in the
 * embedding process). After the first violation it reads nothing more: the stream is broken.
 */
export class FrameReader {
  /** Longest frame accepted; raised per job to fit its value limit. */
  maxLine: number;
  readonly #onFrame: (f: Frame, lineBytes: number) => void;
  readonly #onViolation: (why: string) => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #broken = false;

  constructor(maxLine: number, onFrame: (f: Frame, lineBytes: number) => void, onViolation: (why: string) => void) {
    this.maxLine = maxLine;
    this.#onFrame = onFrame;
    this.#onViolation = onViolation;
  }

  push(data: Buffer): void {
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1 && !this.#broken; nl = data.indexOf(10, start)) {
      this.#append(data.subarray(start, nl));
      start = nl + 1;
      const bytes = this.#pendingBytes;
      const line = Buffer.concat(this.#pending).toString("utf8");
      this.#pending = [];
      this.#pendingBytes = 0;
      if (line && !this.#broken) this.#line(line, bytes);
    }
    if (start < data.length && !this.#broken) this.#append(data.subarray(start));
  }

  #append(part: Buffer): void {
    if (this.#broken) return;
    this.#pendingBytes += part.length;
    if (this.#pendingBytes > this.maxLine) return this.#violate(`a frame longer than ${this.maxLine} bytes`);
    this.#pending.push(part);
  }

  #line(line: string, bytes: number): void {
    // Before any parse: a frame nested deeper than any value may be is refused unparsed (threat: a
    // forged result frame nested 1,000,000 deep overflowing the embedding process's stack).
    if (nestedDeeperThan(line, MAX_VALUE_DEPTH + 1)) return this.#violate(`a frame nested deeper than ${MAX_VALUE_DEPTH} levels`);
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return this.#violate("a line that is not JSON");
    }
    const frame = FrameSchema.safeParse(json);
    if (!frame.success) return this.#violate(`a malformed frame (${frame.error.issues[0]?.message ?? "invalid"})`);
    this.#onFrame(frame.data, bytes);
  }

  #violate(why: string): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#onViolation(why);
  }
}
