// Runs in: the embedding process (the CLI). What the guest wrote, returned or threw, made safe to
// print to a terminal (threat: a guest driving the terminal with control sequences, or forging one
// of the CLI's own `[isobox] …` lines). `--json` does not use this: JSON.stringify escapes already.

/**
 * Characters a terminal acts on rather than shows: C0 controls but tab (newline is handled by the
 * callers), DEL, C1 controls (0x9b is a CSI, 0x9d an OSC on their own), and the bidi embeddings,
 * overrides and isolates (they reorder what a line shows).
 */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** A guest line that would read like one of the CLI's own (leading blanks and invisible format characters ignored). */
const CLI_PREFIX = /^[\s\p{Cf}]*\[isobox\]/iu;

/** Marks a guest line that begins like one of the CLI's own lines. */
export const GUEST_MARK = "[guest] ";

/** `text` on one line, every control character written as `\xHH` (`\uHHHH` above 0xff); tabs kept. */
export function escapeInline(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** Guest text for the terminal: each line escaped as escapeInline does, and marked when it would pass for the CLI's. */
export function guestText(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      const safe = escapeInline(line);
      return CLI_PREFIX.test(safe) ? GUEST_MARK + safe : safe;
    })
    .join("\n");
}
