// The fetch capability as guests see it: a standard `fetch` in JS/TS, `from isobox import fetch` in
// Python, enforced on the host (src/fetch/, whose own suite covers the address guard with an
// injected resolver and connector). Every address here is loopback: the allowed server, and a
// second listener that must never see a connection.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../src/index.ts";

let sandbox: Sandbox;
let noFetch: Sandbox;
let server: Server;
let forbidden: Server;
let port = 0;
let forbiddenPort = 0;
let forbiddenHits = 0;
const received: Array<{ method: string; url: string; body: string; headers: Record<string, unknown> }> = [];

function listen(s: Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)));
}

beforeAll(async () => {
  forbidden = createServer((_, res) => {
    forbiddenHits++;
    res.end("leaked");
  });
  forbidden.on("connection", () => {
    forbiddenHits++;
  });
  forbiddenPort = await listen(forbidden);
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ method: req.method!, url: req.url!, body: Buffer.concat(chunks).toString("latin1"), headers: req.headers });
      if (req.url === "/redirect-out") {
        res.writeHead(302, { location: `http://127.0.0.1:${forbiddenPort}/` });
        return res.end();
      }
      if (req.url === "/binary") {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        return res.end(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
      }
      res.writeHead(200, { "content-type": "application/json", "x-echo": "yes" });
      res.end(JSON.stringify({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString() }));
    });
  });
  port = await listen(server);
  sandbox = await createSandbox({ concurrency: 2, warm: { javascript: 1, python: 1 }, fetch: { allow: [`127.0.0.1:${port}`] } });
  noFetch = await createSandbox({ concurrency: 1, warm: { javascript: 1 } });
});
afterAll(async () => {
  await Promise.all([sandbox.close(), noFetch.close()]);
  server.close();
  forbidden.close();
});

describe("fetch in JavaScript guests", () => {
  it("GETs and POSTs to an allowed host with the standard Response API", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `export default async () => {
        const a = await fetch("http://127.0.0.1:${port}/hello?x=1");
        const b = await fetch(new URL("http://127.0.0.1:${port}/post"), { method: "POST", headers: { "content-type": "text/plain", "x-custom": "1" }, body: "payload" });
        const bin = new Uint8Array(await (await fetch("http://127.0.0.1:${port}/binary")).arrayBuffer());
        return { a: await a.json(), ok: a.ok, status: a.status, echo: a.headers.get("X-Echo"), b: await b.json(), bin: Array.from(bin.slice(250)) };
      }`,
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual({
      a: { method: "GET", url: "/hello?x=1", body: "" },
      ok: true,
      status: 200,
      echo: "yes",
      b: { method: "POST", url: "/post", body: "payload" },
      bin: [250, 251, 252, 253, 254, 255],
    });
    expect(received.find((x) => x.url === "/post")?.headers["x-custom"]).toBe("1");
  });

  it("refuses a host that is not on the allow-list, before any lookup or connection", async () => {
    const before = forbiddenHits;
    const r = await sandbox.run({
      language: "javascript",
      code: `export default async () => { const out = []; for (const u of ["http://127.0.0.1:${forbiddenPort}/", "http://localhost:${forbiddenPort}/", "http://example.com/", "file:///etc/passwd"]) { try { await fetch(u); out.push("fetched"); } catch (e) { out.push(e.name); } } return out; }`,
    });
    expect(r.value).toEqual(["FetchError", "FetchError", "FetchError", "FetchError"]);
    expect(forbiddenHits).toBe(before);
  });

  it("an allowed host redirecting to a non-allowed address is refused; that listener sees nothing", async () => {
    const before = forbiddenHits;
    const r = await sandbox.run({
      language: "javascript",
      code: `export default async () => { try { await fetch("http://127.0.0.1:${port}/redirect-out"); } catch (e) { return e.message; } }`,
    });
    expect(r.value).toMatch(/redirect|not allowed|allow/i);
    expect(forbiddenHits).toBe(before);
  });

  it("host-only headers (Host, Content-Length) set by the guest are dropped, not sent", async () => {
    const r = await sandbox.run({
      language: "javascript",
      code: `export default async () => (await fetch("http://127.0.0.1:${port}/h", { headers: { host: "evil.example", "x-ok": "1" } })).status`,
    });
    expect(r.value).toBe(200);
    const last = received.at(-1)!;
    expect(last.headers.host).toBe(`127.0.0.1:${port}`);
    expect(last.headers["x-ok"]).toBe("1");
  });

  it("there is no fetch at all in a sandbox without the capability", async () => {
    const r = await noFetch.run({ language: "javascript", code: `export default () => typeof fetch` });
    expect(r.value).toBe("undefined");
  });
});

describe("fetch in Python guests", () => {
  it("fetch(url, method=, headers=, body=) returns status, headers and body", async () => {
    const r = await sandbox.run({
      language: "python",
      code: `from isobox import fetch
a = fetch("http://127.0.0.1:${port}/py")
b = fetch("http://127.0.0.1:${port}/py-post", method="POST", headers={"content-type": "application/json"}, body=b'{"k": 1}')
[a.status, a.ok, a.headers["x-echo"], a.json(), b.json()["body"], list(fetch("http://127.0.0.1:${port}/binary").body[:3])]`,
    });
    expect(r.status).toBe("ok");
    expect(r.value).toEqual([200, true, "yes", { method: "GET", url: "/py", body: "" }, '{"k": 1}', [0, 1, 2]]);
  });

  it("a refused fetch raises FetchError; the forbidden listener sees nothing", async () => {
    const before = forbiddenHits;
    const r = await sandbox.run({
      language: "python",
      code: `from isobox import fetch, FetchError
out = []
for u in ["http://127.0.0.1:${forbiddenPort}/", "http://127.0.0.1:${port}/redirect-out"]:
    try:
        fetch(u)
        out.append("fetched")
    except FetchError as e:
        out.append("refused")
out`,
    });
    expect(r.value).toEqual(["refused", "refused"]);
    expect(forbiddenHits).toBe(before);
  });

  it("without the capability, fetch raises BindingError naming how to enable it", async () => {
    const r = await noFetch.run({ language: "python", code: "from isobox import fetch\nfetch('http://127.0.0.1:1/')" });
    expect(r.status).toBe("error");
    expect(r.error?.name).toBe("BindingError");
    expect(r.error?.message).toMatch(/fetch is not enabled/);
  });
});
