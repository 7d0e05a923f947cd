// The untrusted bytes a runner writes, read on the host (no Docker needed): Docker's stream demux,
// the JSON-line frame reader with its caps, and how a container's end becomes a catalogue outcome.
import { describe, expect, it } from "vitest";
import { resolveLimits } from "../../src/contract/limits.ts";
import { cpuTimeout, crashed, memoryExceeded, outputFilesTooLarge, tooManyOutputFiles, valueTooBig } from "../../src/contract/outcomes.ts";
import { DockerStreamDemux } from "../../src/container/docker-demux.ts";
import { exitOutcome, fromResultFrame } from "../../src/container/endings.ts";
import { FrameReader, type Frame, type ResultFrame } from "../../src/container/frames.ts";

const header = (type: number, length: number) =>
  Buffer.from([type, 0, 0, 0, length >>> 24, (length >>> 16) & 255, (length >>> 8) & 255, length & 255]);

describe("Docker stream demux", () => {
  it("keeps stdout payloads and drops stderr, with headers and payloads cut anywhere", () => {
    const stream = Buffer.concat([header(1, 3), Buffer.from("abc"), header(2, 4), Buffer.from("oops"), header(1, 2), Buffer.from("de")]);
    for (const piece of [1, 3, 5, 8, 64]) {
      const out: Buffer[] = [];
      const demux = new DockerStreamDemux((b) => out.push(Buffer.from(b)));
      for (let at = 0; at < stream.length; at += piece) demux.push(stream.subarray(at, at + piece));
      expect(Buffer.concat(out).toString()).toBe("abcde");
    }
  });
});

describe("frame reader", () => {
  const read = (maxLine: number, ...chunks: string[]) => {
    const frames: Frame[] = [];
    const violations: string[] = [];
    const reader = new FrameReader(
      maxLine,
      (f) => frames.push(f),
      (why) => violations.push(why),
    );
    for (const c of chunks) reader.push(Buffer.from(c));
    return { frames, violations };
  };

  it("parses JSON lines split across chunks and reports each frame's size", () => {
    const sizes: number[] = [];
    const reader = new FrameReader(
      1 << 10,
      (_f, n) => sizes.push(n),
      () => {},
    );
    for (const c of ['{"t":"re', 'ady"}\n{"t":"ready"}', "\n"]) reader.push(Buffer.from(c));
    expect(sizes).toEqual([13, 13]);
  });

  it("breaks on a line that is not JSON, a frame no runner writes, or a line over the cap, and reads nothing after", () => {
    expect(read(1 << 10, "not json\n", '{"t":"ready"}\n')).toEqual({ frames: [], violations: ["a line that is not JSON"] });
    expect(read(1 << 10, '{"t":"ready","x":1}\n').violations[0]).toMatch(/^a malformed frame/);
    expect(read(16, "x".repeat(10), "x".repeat(10))).toEqual({ frames: [], violations: ["a frame longer than 16 bytes"] });
  });
});

describe("container endings", () => {
  const limits = resolveLimits("python", undefined, { memoryMb: 128, cpuTimeMs: 500 });
  const result = (f: Partial<ResultFrame>): ResultFrame => ({ t: "result", kind: "ok", cpuMs: 0, maxRssBytes: 0, ...f });

  it("names the container's exits as the isolate names the same causes", () => {
    expect(exitOutcome({ code: 137, oomKilled: false }, limits)).toEqual(memoryExceeded(128, "the container was killed: exit code 137"));
    expect(exitOutcome({ code: 1, oomKilled: true }, limits).error.name).toBe("MemoryError");
    expect(exitOutcome({ code: 152, oomKilled: false }, limits)).toEqual(cpuTimeout(500));
    expect(exitOutcome({ code: 139, oomKilled: false }, limits)).toEqual(
      crashed("ContainerCrashed", "the container died before answering (exit code 139)"),
    );
    expect(exitOutcome({ lost: "socket closed" }, limits).error.name).toBe("ContainerCrashed");
  });

  it("reads the runner's result kinds through the catalogue and the one value cap", () => {
    expect(fromResultFrame(result({ value: [1] }), 100, limits)).toEqual({ status: "ok", value: [1] });
    expect(fromResultFrame(result({ kind: "too_big", size: 20 << 20 }), 100, limits)).toEqual(valueTooBig(20 << 20, 16 << 20));
    expect(fromResultFrame(result({ kind: "output_limit", message: "more than 1000 output files" }), 100, limits)).toEqual(
      tooManyOutputFiles("more than 1000", 1000),
    );
    expect(fromResultFrame(result({ kind: "output_limit", message: "output files larger than 1 bytes in total" }), 100, limits)).toEqual(
      outputFilesTooLarge(64 << 20),
    );
    expect(fromResultFrame(result({ kind: "memory" }), 100, limits)).toEqual(memoryExceeded(128));
  });

  it("measures a forged result frame longer than the value cap (threat: a value past the cap)", () => {
    const value = "x".repeat((16 << 20) + 10);
    expect(fromResultFrame(result({ value }), (16 << 20) + 100, limits)).toEqual(valueTooBig((16 << 20) + 12, 16 << 20));
  });
});
