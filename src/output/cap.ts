// Runs in: wherever a job's output is collected (an isolate's worker thread, the container
// backend in the embedding process). The one rule for maxOutputBytes: stdout and stderr together,
// counted in UTF-8 bytes; past the cap, what fits is kept (cut on a character boundary) and the job
// ends with output_limit (outcomes.outputLimit). Threat: a job printing in a loop filling the
// host's memory, or a cut that splits a character and hands the caller invalid text.
export class OutputCap {
  readonly #max: number;
  #bytes = 0;
  #over = false;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /** True once the cap was crossed: nothing more is kept. */
  get over(): boolean {
    return this.#over;
  }

  /** The part of `text` that fits (all of it, until the cap is crossed; then "" ever after). */
  take(text: string): string {
    if (this.#over) return "";
    const size = Buffer.byteLength(text);
    if (this.#bytes + size <= this.#max) {
      this.#bytes += size;
      return text;
    }
    const kept = Buffer.from(text)
      .subarray(0, this.#max - this.#bytes)
      .toString()
      .replace(/\uFFFD$/, "");
    this.#bytes = this.#max;
    this.#over = true;
    return kept;
  }
}
