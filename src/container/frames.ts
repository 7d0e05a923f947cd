// The runner's frames (runtimes/container/runner.py), read from a container's attach stream.
// Everything here is untrusted: the job shares the runner's process and can write any bytes onto the
// protocol fd. Each frame is a JSON line checked by a schema, and lines and totals are capped, so a
// forger can only ever fool (or fail) its own job; it cannot grow the embedding process's memory.
import { z } from "zod";
import { CapabilityCallSchema } from "../contract/calls.ts";

const text = z.string().max(1 << 20);

export const FrameSchema = z.discriminatedUnion("t", [
  z.strictObject({ t: z.literal("ready") }),
  z.strictObject({ t: z.literal("out"), fd: z.union([z.literal(1), z.literal(2)]), lines: z.array(z.string()).max(1 << 16), open: z.literal(true).optional() }),
  z.strictObject({ t: z.literal("file"), path: z.string().max(4096), data: z.string(), end: z.boolean() }),
  // A capability call (`from isobox import host, fetch`): answered on stdin with the same id.
  z.strictObject({ t: z.literal("call"), id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), kind: CapabilityCallSchema.shape.kind, name: CapabilityCallSchema.shape.name, args: CapabilityCallSchema.shape.argsJson }),
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
 * Splits Docker's multiplexed attach stream (8-byte headers: stream type, 0 0 0, big-endian length)
 * into the stdout bytes, then those into JSON lines. Hand-rolled rather than docker-modem's
 * demuxStream because that one re-concatenates its whole buffer per chunk (quadratic on large
 * outputs) and has no size cap; this one keeps at most `maxLine` bytes of an unfinished line.
 */
export class FrameReader {
  #header = Buffer.alloc(0);
  #remaining = 0;
  #streamType = 0;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Longest frame accepted; raised per job to fit its value limit. */
  maxLine: number;
  readonly #onFrame: (f: Frame) => void;
  readonly #onViolation: (why: string) => void;
  #broken = false;

  constructor(maxLine: number, onFrame: (f: Frame) => void, onViolation: (why: string) => void) {
    this.maxLine = maxLine;
    this.#onFrame = onFrame;
    this.#onViolation = onViolation;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.#broken) {
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
      if (this.#streamType === 1) this.#bytes(chunk.subarray(at, at + take));
      this.#remaining -= take;
      at += take;
    }
  }

  #bytes(data: Buffer): void {
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1 && !this.#broken; nl = data.indexOf(10, start)) {
      this.#append(data.subarray(start, nl));
      start = nl + 1;
      const line = Buffer.concat(this.#pending).toString("utf8");
      this.#pending = [];
      this.#pendingBytes = 0;
      if (line) this.#line(line);
    }
    if (start < data.length) this.#append(data.subarray(start));
  }

  #append(part: Buffer): void {
    this.#pendingBytes += part.length;
    if (this.#pendingBytes > this.maxLine) return this.#violate(`a frame longer than ${this.maxLine} bytes`);
    this.#pending.push(part);
  }

  #line(line: string): void {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return this.#violate("a line that is not JSON");
    }
    const frame = FrameSchema.safeParse(json);
    if (!frame.success) return this.#violate(`a malformed frame (${frame.error.issues[0]?.message ?? "invalid"})`);
    this.#onFrame(frame.data);
  }

  #violate(why: string): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#pending = [];
    this.#onViolation(why);
  }
}
