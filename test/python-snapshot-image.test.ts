import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { IMAGE_PAGE, snapshotImage } from "../src/python/snapshot-image.ts";
import { pythonSnapshotFile } from "../src/python/snapshot-file.ts";

/** A snapshot in Pyodide's layout: u32 magic, u32 memory offset, u32 state length, then memory. */
function fakeSnapshot(memory: Uint8Array, headerBytes = 48): Uint8Array {
  const out = new Uint8Array(headerBytes + memory.byteLength);
  const words = new DataView(out.buffer);
  words.setUint32(0, 0x12345678, true);
  words.setUint32(4, headerBytes, true);
  out.set(memory, headerBytes);
  return out;
}

function rebuild(image: ReturnType<typeof snapshotImage>): Uint8Array {
  const memory = new Uint8Array(image.memoryBytes);
  let from = 0;
  for (let i = 0; i < image.runs.length; i += 2) {
    const [start, end] = [image.runs[i]!, image.runs[i + 1]!];
    memory.set(image.pages.subarray(from, from + end - start), start);
    from += end - start;
  }
  return memory;
}

describe("snapshot image (only the non-zero pages of the interpreter's memory)", () => {
  it("keeps every non-zero byte, merges adjacent pages into one run and drops zero pages", () => {
    const memory = new Uint8Array(8 * IMAGE_PAGE);
    memory[0] = 1; // page 0
    memory[2 * IMAGE_PAGE - 1] = 2; // last byte of page 1: merged with page 0
    memory[5 * IMAGE_PAGE + 100] = 3; // page 5 alone
    const image = snapshotImage(fakeSnapshot(memory));
    expect(image.runs).toEqual([0, 2 * IMAGE_PAGE, 5 * IMAGE_PAGE, 6 * IMAGE_PAGE]);
    expect(image.pages.byteLength).toBe(3 * IMAGE_PAGE);
    expect(image.header.byteLength).toBe(48);
    expect(rebuild(image)).toEqual(memory);
  });

  it("rebuilds the real Pyodide snapshot byte for byte from half its size", () => {
    const snapshot = new Uint8Array(readFileSync(pythonSnapshotFile()));
    const image = snapshotImage(snapshot);
    const offset = new DataView(snapshot.buffer, snapshot.byteOffset).getUint32(4, true);
    expect(Buffer.compare(rebuild(image), snapshot.subarray(offset))).toBe(0);
    expect(image.pages.byteLength).toBeLessThan(0.75 * image.memoryBytes);
  });

  it("refuses a snapshot whose layout it does not know", () => {
    const bad = fakeSnapshot(new Uint8Array(IMAGE_PAGE));
    new DataView(bad.buffer).setUint32(4, 7, true);
    expect(() => snapshotImage(bad)).toThrow(/layout/);
  });
});
