// The memory snapshot in the shape a restore needs: Pyodide's header (magic, build id, JS-side
// state), and only the non-zero pages of the interpreter's memory. Half of the 30 MB memory is zero
// pages; a restore that writes only the others leaves those untouched in the fresh WebAssembly
// memory, where the kernel never commits them (measured: ~16 MB less resident per interpreter, and
// half the bytes copied into every isolate).

/** The granularity at which zero memory is skipped: the kernel's page. */
export const IMAGE_PAGE = 4096;

export interface SnapshotImage {
  /** Pyodide's snapshot header: everything before the memory (validated by Pyodide's own restore). */
  header: Uint8Array;
  /** The non-zero runs of memory, back to back, in the order of `runs`. */
  pages: Uint8Array;
  /** [start, end) byte offsets in the interpreter's memory of each non-zero run, ascending. */
  runs: number[];
  /** Size of the interpreter's memory the snapshot was taken from. */
  memoryBytes: number;
}

function isZeroPage(words: Uint32Array, from: number): boolean {
  for (let i = from, end = from + IMAGE_PAGE / 4; i < end; i++) if (words[i] !== 0) return false;
  return true;
}

/** Split a snapshot made by Pyodide's makeMemorySnapshot into header, non-zero runs and their bytes. */
export function snapshotImage(snapshot: Uint8Array): SnapshotImage {
  const view = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  // Pyodide's layout: u32 magic, u32 offset of the memory, u32 length of the JSON state, ...
  const memoryOffset = view.getUint32(4, true);
  const memoryBytes = snapshot.byteLength - memoryOffset;
  if (memoryOffset % 16 !== 0 || memoryBytes % IMAGE_PAGE !== 0 || memoryOffset > snapshot.byteLength)
    throw new Error("isobox: unexpected Pyodide snapshot layout");
  const memory = snapshot.subarray(memoryOffset);
  // Read as 4-byte words (a copy only if the bytes are not 4-byte aligned).
  const aligned = memory.byteOffset % 4 === 0 ? memory : memory.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, memoryBytes / 4);
  const runs: number[] = [];
  for (let at = 0; at < memoryBytes; at += IMAGE_PAGE) {
    if (isZeroPage(words, at / 4)) continue;
    if (runs.length > 0 && runs[runs.length - 1] === at) runs[runs.length - 1] = at + IMAGE_PAGE;
    else runs.push(at, at + IMAGE_PAGE);
  }
  let size = 0;
  for (let i = 0; i < runs.length; i += 2) size += runs[i + 1]! - runs[i]!;
  const pages = new Uint8Array(size);
  let from = 0;
  for (let i = 0; i < runs.length; i += 2) {
    pages.set(memory.subarray(runs[i]!, runs[i + 1]!), from);
    from += runs[i + 1]! - runs[i]!;
  }
  return { header: snapshot.slice(0, memoryOffset), pages, runs, memoryBytes };
}
