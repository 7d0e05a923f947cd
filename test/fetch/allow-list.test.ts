// The allow-list, URL-level refusals and validation of every guest-supplied field. Refusals here
// happen before DNS and before any socket: both recorders must stay empty.
import { describe, expect, it } from "vitest";
import { createGuardedFetch, FetchOptionsSchema } from "../../src/fetch/index.ts";
import { guarded, rejection, testNet } from "./harness.ts";

const PUBLIC = "93.184.216.34"; // the test connector refuses it: reaching it proves the allow-list admitted the URL

async function admitted(allow: string[], url: string): Promise<boolean> {
  const netw = testNet({ "api.test": [PUBLIC], "a.b.example.test": [PUBLIC], "example.test": [PUBLIC], "evilexample.test": [PUBLIC] });
  const err = await rejection(guarded({ allow }, netw)({ url }));
  if (err.code === "not_allowed") {
    expect(netw.lookups).toEqual([]);
    return false;
  }
  expect(netw.attempts.map((a) => a.address)).toEqual([PUBLIC]);
  return true;
}

describe("allow-list matching", () => {
  it("an exact host admits http and https on default ports only", async () => {
    expect(await admitted(["api.test"], "https://api.test/x")).toBe(true);
    expect(await admitted(["api.test"], "http://API.test/x")).toBe(true);
    expect(await admitted(["api.test"], "https://api.test:8443/")).toBe(false);
    expect(await admitted(["api.test"], "https://other.test/")).toBe(false);
  });

  it("a wildcard admits subdomains at any depth but not the apex or a look-alike", async () => {
    expect(await admitted(["*.example.test"], "https://a.b.example.test/")).toBe(true);
    expect(await admitted(["*.example.test"], "https://example.test/")).toBe(false);
    expect(await admitted(["*.example.test"], "https://evilexample.test/")).toBe(false);
  });

  it("host:port and host:* pin or free the port", async () => {
    expect(await admitted(["api.test:8443"], "https://api.test:8443/")).toBe(true);
    expect(await admitted(["api.test:8443"], "https://api.test/")).toBe(false);
    expect(await admitted(["api.test:*"], "http://api.test:9999/")).toBe(true);
  });

  it("a URL prefix pins scheme, origin and path", async () => {
    const allow = ["https://api.test/v1/"];
    expect(await admitted(allow, "https://api.test/v1/users?x=1")).toBe(true);
    expect(await admitted(allow, "http://api.test/v1/users")).toBe(false);
    expect(await admitted(allow, "https://api.test/v2/users")).toBe(false);
    expect(await admitted(allow, "https://api.test/v1")).toBe(false);
  });

  it("refuses path traversal out of a URL prefix, plain or percent-encoded", async () => {
    const allow = ["https://api.test/v1/"];
    expect(await admitted(allow, "https://api.test/v1/../admin")).toBe(false);
    expect(await admitted(allow, "https://api.test/v1/%2e%2e/admin")).toBe(false);
    expect(await admitted(allow, "https://api.test/v1/..%2Fadmin")).toBe(false);
    expect(await admitted(allow, "https://api.test/v1/..%5cadmin")).toBe(false);
  });

  it("a prefix without trailing slash admits the path itself and below, not siblings", async () => {
    expect(await admitted(["https://api.test/v1"], "https://api.test/v1")).toBe(true);
    expect(await admitted(["https://api.test/v1"], "https://api.test/v1/x")).toBe(true);
    expect(await admitted(["https://api.test/v1"], "https://api.test/v1admin")).toBe(false);
  });
});

describe("allow-list entries are validated when the sandbox is created", () => {
  const bad = [
    "ftp://files.test/",
    "*.10.0.0.1",
    "api.test:99999",
    "api.test:0",
    "a b",
    "",
    "https://api.test/?q=1",
    "user@api.test",
    "api.test.",
    "**.test",
    "[::1",
  ];
  for (const entry of bad) {
    it(`rejects the entry ${JSON.stringify(entry)}`, () => {
      expect(() => createGuardedFetch({ allow: [entry] })).toThrow(/invalid fetch options/);
    });
  }

  it("rejects an empty allow-list (fetch is off unless something is allowed)", () => {
    expect(() => createGuardedFetch({ allow: [] })).toThrow(/invalid fetch options/);
  });

  it("rejects an allowPrivateAddresses entry that is not an address or CIDR", () => {
    expect(() => createGuardedFetch({ allow: ["*"], allowPrivateAddresses: ["intranet"] })).toThrow(/not an IP address or CIDR/);
  });

  it("parses to plain data that can be embedded in the sandbox options and parsed again", async () => {
    const once = FetchOptionsSchema.parse({ allow: ["api.test", "https://*.example.test/v1/"], allowPrivateAddresses: ["10.0.0.0/8"] });
    expect(once.allow).toEqual(["api.test", "https://*.example.test/v1/"]);
    expect(FetchOptionsSchema.parse(structuredClone(once))).toEqual(once);
    const netw = testNet({ "api.test": [PUBLIC] });
    await rejection(guarded(once, netw)({ url: "http://api.test/" }));
    expect(netw.attempts).toHaveLength(1);
  });

  it("fills in the documented defaults", () => {
    const opts = FetchOptionsSchema.parse({ allow: ["api.test"] });
    expect(opts).toMatchObject({
      allowPrivateAddresses: false,
      maxResponseBytes: 10 * 1024 * 1024,
      maxRequestBytes: 10 * 1024 * 1024,
      timeoutMs: 30_000,
      maxRedirects: 5,
    });
  });
});

describe("URL-level refusals, before DNS and before any socket", () => {
  const cases: Array<[string, string, string]> = [
    ["a file: URL reading host files", "file:///etc/passwd", "not_allowed"],
    ["a data: URL", "data:text/plain,hello", "not_allowed"],
    ["an ftp: URL", "ftp://api.test/", "not_allowed"],
    ["a javascript: URL", "javascript:alert(1)", "not_allowed"],
    ["a ws: URL (unmetered tunnel)", "ws://api.test/", "not_allowed"],
    ["userinfo in the URL", "http://user:secret@api.test/", "not_allowed"],
    ["the allowed-host@evil-host confusion", "http://api.test@evil.test/", "not_allowed"],
    ["a trailing-dot host name", "http://api.test./", "not_allowed"],
    ["port 0", "http://api.test:0/", "not_allowed"],
    ["a string that is not a URL", "not a url", "invalid_request"],
    ["a relative URL", "/etc/passwd", "invalid_request"],
  ];
  for (const [attack, url, code] of cases) {
    it(`refuses ${attack}`, async () => {
      const netw = testNet({ "api.test": ["127.0.0.1"], "evil.test": ["127.0.0.1"] });
      const err = await rejection(guarded({ allow: ["api.test:*", "*.test"] }, netw)({ url }));
      expect(err.code).toBe(code);
      expect(netw.lookups).toEqual([]);
      expect(netw.attempts).toEqual([]);
    });
  }
});

describe("guest request validation", () => {
  const base = { url: "http://api.test/" };
  const cases: Array<[string, unknown, RegExp]> = [
    ["CRLF in a header value (header injection)", { ...base, headers: { "x-a": "1\r\nHost: evil.test" } }, /forbidden character/],
    ["a bare LF in a header value", { ...base, headers: { "x-a": "1\nx-b: 2" } }, /forbidden character/],
    ["NUL in a header value", { ...base, headers: { "x-a": "a\u0000b" } }, /forbidden character/],
    ["CRLF in a header name", { ...base, headers: { "x-a\r\nhost": "evil" } }, /invalid header name/],
    ["a space in a header name", { ...base, headers: { "x a": "1" } }, /invalid header name/],
    ["a Host override", { ...base, headers: { Host: "internal.test" } }, /host cannot be set/],
    [
      "a Transfer-Encoding header (request smuggling)",
      { ...base, method: "POST", body: "x", headers: { "Transfer-Encoding": "chunked" } },
      /transfer-encoding cannot be set/,
    ],
    [
      "a Content-Length header (request smuggling)",
      { ...base, method: "POST", body: "x", headers: { "content-length": "100" } },
      /content-length cannot be set/,
    ],
    ["a Connection: upgrade hop-by-hop header", { ...base, headers: { connection: "upgrade" } }, /connection cannot be set/],
    ["an Upgrade header (WebSocket tunnel)", { ...base, headers: { upgrade: "websocket" } }, /upgrade cannot be set/],
    ["a Proxy-Authorization header", { ...base, headers: { "proxy-authorization": "Basic x" } }, /proxy-authorization cannot be set/],
    [
      "an Accept-Encoding header (decompression bomb past the cap)",
      { ...base, headers: { "accept-encoding": "gzip" } },
      /accept-encoding cannot be set/,
    ],
    ["a method override naming TRACE", { ...base, method: "POST", headers: { "x-http-method-override": "TRACE" } }, /refused method/],
    ["the CONNECT method (tunnel)", { ...base, method: "CONNECT" }, /method must be one of/],
    ["the TRACE method (cross-site tracing)", { ...base, method: "trace" }, /method must be one of/],
    ["a method with CRLF", { ...base, method: "GET\r\nX: y" }, /method/],
    ["a custom verb", { ...base, method: "PROPFIND" }, /method must be one of/],
    ["a GET with a body", { ...base, body: "x" }, /cannot have a body/],
    ["a body past maxRequestBytes", { ...base, method: "POST", body: new Uint8Array(1025) }, /larger than the 1024-byte limit/],
    [
      "a multi-byte string body past maxRequestBytes",
      { ...base, method: "POST", body: "é".repeat(513) },
      /larger than the 1024-byte limit/,
    ],
    [
      "too many headers",
      { ...base, headers: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-${i}`, "1"])) },
      /at most 100 headers/,
    ],
    ["a non-string header value", { ...base, headers: { "x-a": 1 } }, /pair of strings/],
    ["headers as a class instance", { ...base, headers: new Map([["x-a", "1"]]) }, /headers must be/],
    ["an unknown request field", { ...base, agent: "x" }, /Unrecognized key/],
    ["a body that is neither string nor bytes", { ...base, method: "POST", body: { a: 1 } }, /body/],
    ["a request that is not an object", "http://api.test/", /^fetch: invalid request: request: /],
    ["a URL longer than the cap", { url: `http://api.test/${"a".repeat(20_000)}` }, /url/],
  ];
  for (const [attack, req, message] of cases) {
    it(`refuses ${attack}`, async () => {
      const netw = testNet({ "api.test": ["127.0.0.1"] });
      const err = await rejection(guarded({ allow: ["api.test"], maxRequestBytes: 1024, allowPrivateAddresses: true }, netw)(req));
      expect(err.code).toBe("invalid_request");
      expect(err.message).toMatch(message);
      expect(netw.lookups).toEqual([]);
      expect(netw.attempts).toEqual([]);
    });
  }

  it("judges a __proto__ header key like any other key instead of dropping it", async () => {
    const netw = testNet();
    const req = JSON.parse('{"url":"http://api.test/","headers":{"__proto__":"a\\r\\nb"}}');
    const err = await rejection(guarded({ allow: ["api.test"] }, netw)(req));
    expect(err.message).toMatch(/__proto__ contains a forbidden character/);
  });
});
