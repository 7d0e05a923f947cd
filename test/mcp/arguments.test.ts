// ArgumentValidator: JSON Schema checks of guest arguments, run on the host before any call.
import { describe, expect, it } from "vitest";
import { ArgumentValidator } from "../../src/mcp/arguments.ts";

describe("ArgumentValidator", () => {
  const v = new ArgumentValidator();

  it("checks patterns in linear time: a catastrophic-backtracking pattern cannot freeze the host (ReDoS)", () => {
    const check = v.compile({ type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" } } }, "srv.t");
    const evil = `${"a".repeat(50_000)}!`;
    const t0 = performance.now();
    expect(check({ s: evil })).toBe('invalid arguments for srv.t: arguments/s must match pattern "^(a+)+$"');
    expect(performance.now() - t0).toBeLessThan(1_000); // V8's engine would not return in our lifetime
    expect(check({ s: "aaa" })).toBeNull();
  });

  it("keeps different patterns apart (each compiled pattern is its own cache entry)", () => {
    const check = v.compile({ type: "object", properties: { a: { pattern: "^x$" }, b: { pattern: "^y$" } } }, "srv.t");
    expect(check({ a: "x", b: "y" })).toBeNull();
    expect(check({ a: "y", b: "y" })).toMatch(/arguments\/a must match/);
    const props = v.compile({ type: "object", patternProperties: { "^n_": { type: "number" } } }, "srv.p");
    expect(props({ n_1: 1, other: "s" })).toBeNull();
    expect(props({ n_1: "s" })).toMatch(/arguments\/n_1 must be number/);
  });

  it("leaves patterns RE2 cannot express (lookahead) to the server instead of refusing the tool", () => {
    const check = v.compile({ type: "object", properties: { s: { type: "string", pattern: "^(?=.*\\d).+$" } } }, "srv.t");
    expect(check({ s: "no digits" })).toBeNull();
  });

  it("lets two tools declare the same $id without colliding", () => {
    const a = v.compile({ $id: "https://example.org/same.json", type: "object", properties: { x: { type: "string" } } }, "a.t");
    const b = v.compile({ $id: "https://example.org/same.json", type: "object", properties: { x: { type: "number" } } }, "b.t");
    expect(a({ x: "s" })).toBeNull();
    expect(b({ x: 1 })).toBeNull();
    expect(b({ x: "s" })).toMatch(/must be number/);
  });

  it("understands 2020-12 keywords by default and draft-07 when declared", () => {
    const tuple = v.compile(
      { type: "object", properties: { t: { type: "array", prefixItems: [{ type: "string" }], items: false } } },
      "s.t",
    );
    expect(tuple({ t: ["a"] })).toBeNull();
    expect(tuple({ t: ["a", 1] })).not.toBeNull();
    const d7 = v.compile(
      {
        $schema: "http://json-schema.org/draft-07/schema#",
        type: "object",
        properties: { t: { items: [{ type: "string" }], additionalItems: false } },
      },
      "s.d7",
    );
    expect(d7({ t: ["a", "b"] })).not.toBeNull();
  });

  it("checks formats (ajv-formats), so an email field refuses a non-email", () => {
    const check = v.compile({ type: "object", properties: { to: { type: "string", format: "email" } } }, "mail.send");
    expect(check({ to: "a@example.org" })).toBeNull();
    expect(check({ to: "not an email" })).toBe('invalid arguments for mail.send: arguments/to must match format "email"');
  });
});
