// Shared by the McpTools suites: the McpCallError a promise rejects with (fails the test otherwise).
import { expect } from "vitest";
import { McpCallError } from "../../src/mcp/index.ts";

export async function rejection(p: Promise<unknown>): Promise<McpCallError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(McpCallError);
  return e as McpCallError;
}
