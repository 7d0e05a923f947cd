import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const cli = fileURLToPath(new URL("../src/cli/isobox.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "isobox-cli-"));
function file(name: string, code: string): string {
  const p = join(dir, name);
  writeFileSync(p, code);
  return p;
}
function isobox(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("isobox run (CLI)", () => {
  it("streams output, prints the value and exits 0 for ok", () => {
    const r = isobox("run", file("ok.js", "export default (i) => { console.log('hi'); return { got: i } }"), "--input", '{"a":1}');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hi\n{\n  "got": {\n    "a": 1\n  }\n}\n');
  });
  it("prints exactly one JSON RunResult with --json", () => {
    const r = isobox("run", file("j.ts", "export default (): number => 42"), "--json");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ status: "ok", value: 42, backend: "isolate", files: [] });
  });
  it("exits 1 for a guest error and prints the stack", () => {
    const r = isobox("run", file("err.js", "throw new TypeError('nope')"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("TypeError: nope");
  });
  it("exits 124 for timeout with --timeout", () => {
    expect(isobox("run", file("loop.js", "while (true) {}"), "--timeout", "200").code).toBe(124);
  });
  it("exits 137 for memory with --memory", () => {
    expect(isobox("run", file("mem.js", "const a = []; while (true) a.push(new Array(1e5).fill(7));"), "--memory", "16").code).toBe(137);
  });
  it("exits 2 for usage errors and rejected jobs", () => {
    expect(isobox("run").code).toBe(2);
    expect(isobox("run", file("x.rb", "")).code).toBe(2);
    expect(isobox("run", file("i.js", ""), "--input", "{not json").code).toBe(2);
    expect(isobox("run", file("t.js", ""), "--timeout", "abc").code).toBe(2);
    const r = isobox("run", file("c.js", ""), "--backend", "container", "--json");
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).status).toBe("rejected");
  });
  it("exits 3 for output_limit and other statuses", () => {
    const r = isobox("run", file("big.js", "export default () => 'x'.repeat(20 * 1024 * 1024)"), "--json");
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).status).toBe("output_limit");
  });
  it("--file brings an input file, --out DIR saves the output files (and nothing outside DIR)", () => {
    const out = join(dir, "out");
    const r = isobox(
      "run",
      file("f.py", "open('output/r.txt','w').write(open('in.txt').read().upper())"),
      "--file",
      `in.txt=${file("in.txt", "abc")}`,
      "--out",
      out,
    );
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "output/r.txt"), "utf8")).toBe("ABC");
    expect(existsSync(join(dir, "r.txt"))).toBe(false);
  }, 60_000);
  it("--mcp gives the job an MCP server's tools", () => {
    const server = fileURLToPath(new URL("../examples/mcp/inventory-server.ts", import.meta.url));
    const r = isobox(
      "run",
      file("m.js", "import * as host from 'isobox:host'; export default () => host.inventory.stock_level({ product: 'gadget' })"),
      "--mcp",
      `inventory=${server}`,
      "--json",
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).value).toEqual({ product: "gadget", units: 40 });
  });
});
