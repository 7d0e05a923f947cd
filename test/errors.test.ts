// Set-up failures are one IsoboxError class with a code to branch on; a Sandbox is AsyncDisposable.
import { describe, expect, it } from "vitest";
import { createSandbox, GUEST_ERROR_NAMES, IsoboxError } from "../src/index.ts";

async function failure(p: Promise<unknown>): Promise<IsoboxError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IsoboxError);
    return e as IsoboxError;
  }
  throw new Error("expected createSandbox to fail");
}

describe("named set-up errors", () => {
  it("bad options throw IsoboxError INVALID_OPTIONS naming the field", async () => {
    const e = await failure(createSandbox({ concurrency: 0 }));
    expect(e.code).toBe("INVALID_OPTIONS");
    expect(e.message).toMatch(/concurrency/);
    expect(e).toBeInstanceOf(TypeError); // as before the class existed
  });

  it("an MCP server that cannot start throws MCP_CONNECT naming the server; a bad entry INVALID_OPTIONS", async () => {
    const e = await failure(createSandbox({ concurrency: 1, mcp: { servers: { broken: { command: "/nonexistent/mcp-server" } } } }));
    expect(e.code).toBe("MCP_CONNECT");
    expect(e.message).toMatch(/broken/);
    const bad = await failure(createSandbox({ concurrency: 1, mcp: { servers: { "has space": { command: "x" } } } }));
    expect(bad.code).toBe("INVALID_OPTIONS");
  });

  it("describe() and endSession() misuse throw INVALID_OPTIONS", async () => {
    await using sandbox = await createSandbox({ concurrency: 1, warm: { javascript: 0 } });
    expect(() => sandbox.describe({ language: "ruby" as never })).toThrow(IsoboxError);
    await expect(sandbox.endSession(42 as never)).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });

  it("`await using` closes the sandbox at the end of the block", async () => {
    let pid = 0;
    {
      await using sandbox = await createSandbox({ concurrency: 1, warm: { javascript: 0 } });
      pid = sandbox.hostPid;
      expect((await sandbox.run({ language: "javascript", code: "export default () => 1" })).value).toBe(1);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it("lists the guest-facing error names isobox itself puts in results", () => {
    expect(GUEST_ERROR_NAMES).toEqual(
      expect.arrayContaining(["TimeoutError", "MemoryError", "OutputLimitError", "AbortError", "SessionBackend"]),
    );
  });
});
