// The guarded fetch against a real HTTP server on 127.0.0.1, explicitly allowed.
import { randomBytes } from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { directConnector, systemResolver } from "../../src/fetch/index.ts";
import { guarded, rejection, startServer, testNet, type TestServer } from "./harness.ts";

let server: TestServer;
let port: number;

beforeAll(async () => {
  server = await startServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    switch (url.pathname) {
      case "/hello":
        res.setHeader("x-server", "loopback");
        res.setHeader("set-cookie", ["a=1", "b=2"]);
        return res.end("hello");
      case "/echo":
        res.setHeader("content-type", req.headers["content-type"] ?? "application/octet-stream");
        return res.end(req.body);
      case "/headers":
        res.setHeader("content-type", "application/json");
        return res.end(JSON.stringify(req.headers));
      case "/status":
        res.statusCode = 418;
        res.statusMessage = "I'm a teapot";
        return res.end();
      case "/proto":
        res.setHeader("__proto__", "x");
        return res.end();
      case "/to-hello":
        res.writeHead(302, { location: "/hello#frag" });
        return res.end("moved");
      case "/post-303":
        res.writeHead(303, { location: "/echo" });
        return res.end();
      case "/keep-307":
        res.writeHead(307, { location: "/echo" });
        return res.end();
      case "/to-localhost":
        res.writeHead(302, { location: `http://localhost:${port}/headers` });
        return res.end();
      default:
        res.statusCode = 404;
        return res.end("not found");
    }
  });
  port = server.port;
});
afterAll(() => server.close());

const allowLoopback = () => ({ allow: [`127.0.0.1:${port}`] });

describe("fetch from an explicitly allowed loopback server", () => {
  it("GETs status, status text, headers, body and final URL", async () => {
    const res = await guarded(allowLoopback(), testNet())({ url: `${server.origin}/hello` });
    expect(res.status).toBe(200);
    expect(res.statusText).toBe("OK");
    expect(res.headers["x-server"]).toBe("loopback");
    expect(res.headers["set-cookie"]).toBe("a=1, b=2");
    expect(Buffer.from(res.body).toString()).toBe("hello");
    expect(res.body).toBeInstanceOf(Uint8Array);
    expect(res.url).toBe(`${server.origin}/hello`);
    expect(res.redirected).toBe(false);
  });

  it("POSTs a string body as UTF-8 with fetch's default content type", async () => {
    const res = await guarded(allowLoopback(), testNet())({ url: `${server.origin}/echo`, method: "post", body: "héllo ✓" });
    expect(Buffer.from(res.body).toString("utf8")).toBe("héllo ✓");
    expect(res.headers["content-type"]).toBe("text/plain;charset=UTF-8");
  });

  it("round-trips a binary body byte for byte", async () => {
    const bytes = new Uint8Array([...Array.from({ length: 256 }, (_, i) => i), ...randomBytes(200_000)]);
    const res = await guarded(
      allowLoopback(),
      testNet(),
    )({
      url: `${server.origin}/echo`,
      method: "PUT",
      body: bytes,
      headers: { "content-type": "application/octet-stream" },
    });
    expect(res.body.length).toBe(bytes.length);
    expect(Buffer.compare(Buffer.from(res.body), Buffer.from(bytes))).toBe(0);
  });

  it("sends the guest's headers, Host set from the URL, and no Accept-Encoding but identity", async () => {
    const res = await guarded(
      allowLoopback(),
      testNet(),
    )({
      url: `${server.origin}/headers`,
      headers: [
        ["X-Token", " abc "],
        ["x-multi", "1"],
        ["X-Multi", "2"],
      ],
    });
    const seen = JSON.parse(Buffer.from(res.body).toString()) as Record<string, string>;
    expect(seen["x-token"]).toBe("abc");
    expect(seen["x-multi"]).toBe("1, 2");
    expect(seen.host).toBe(`127.0.0.1:${port}`);
    expect(seen["accept-encoding"]).toBe("identity");
    expect(seen.connection).toBe("close");
  });

  it("passes a non-2xx status and its reason through as a response, not an error", async () => {
    const res = await guarded(allowLoopback(), testNet())({ url: `${server.origin}/status` });
    expect(res.status).toBe(418);
    expect(res.statusText).toBe("I'm a teapot");
  });

  it("keeps a hostile __proto__ response header as an ordinary key", async () => {
    const res = await guarded(allowLoopback(), testNet())({ url: `${server.origin}/proto` });
    expect(Object.hasOwn(res.headers, "__proto__")).toBe(true);
    expect(res.headers["__proto__"]).toBe("x");
  });

  it("reaches an allowed name resolved to loopback when allowPrivateAddresses names loopback", async () => {
    const netw = testNet({ "api.test": ["127.0.0.1"] });
    const res = await guarded(
      { allow: [`api.test:${port}`], allowPrivateAddresses: ["127.0.0.0/8"] },
      netw,
    )({ url: `http://api.test:${port}/headers` });
    expect(JSON.parse(Buffer.from(res.body).toString()).host).toBe(`api.test:${port}`);
    expect(netw.attempts).toEqual([{ address: "127.0.0.1", family: 4, port, tls: false, servername: "api.test" }]);
  });

  it("reaches localhost:PORT when that entry is allowed, without asking DNS", async () => {
    const netw = testNet();
    const res = await guarded({ allow: [`localhost:${port}`] }, netw)({ url: `http://localhost:${port}/hello` });
    expect(res.status).toBe(200);
    expect(netw.lookups).toEqual([]);
    expect(netw.attempts[0]?.address).toBe("127.0.0.1");
  });
});

describe("redirects inside the allowed set", () => {
  it("follows a relative redirect and reports the final URL without fragment", async () => {
    const res = await guarded(allowLoopback(), testNet())({ url: `${server.origin}/to-hello` });
    expect(Buffer.from(res.body).toString()).toBe("hello");
    expect(res.url).toBe(`${server.origin}/hello`);
    expect(res.redirected).toBe(true);
  });

  it("turns a POST into a body-less GET on 303", async () => {
    const before = server.requests.length;
    const res = await guarded(allowLoopback(), testNet())({ url: `${server.origin}/post-303`, method: "POST", body: "data" });
    expect(res.status).toBe(200);
    const second = server.requests[before + 1]!;
    expect(second.method).toBe("GET");
    expect(second.body.length).toBe(0);
    expect(second.headers["content-type"]).toBeUndefined();
  });

  it("keeps method and body on 307", async () => {
    const res = await guarded(allowLoopback(), testNet())({ url: `${server.origin}/keep-307`, method: "POST", body: "kept" });
    expect(Buffer.from(res.body).toString()).toBe("kept");
  });

  it("drops Authorization and Cookie when a redirect changes origin", async () => {
    const fetch = guarded({ allow: [`127.0.0.1:${port}`, `localhost:${port}`] }, testNet());
    const res = await fetch({
      url: `${server.origin}/to-localhost`,
      headers: { authorization: "Bearer s3cret", cookie: "sid=1", "x-keep": "yes" },
    });
    const seen = JSON.parse(Buffer.from(res.body).toString()) as Record<string, string>;
    expect(seen.host).toBe(`localhost:${port}`);
    expect(seen.authorization).toBeUndefined();
    expect(seen.cookie).toBeUndefined();
    expect(seen["x-keep"]).toBe("yes");
  });

  it("returns the 3xx itself with redirect: manual", async () => {
    const res = await guarded(allowLoopback(), testNet())({ url: `${server.origin}/to-hello`, redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("/hello#frag");
    expect(Buffer.from(res.body).toString()).toBe("moved");
  });

  it("rejects on a redirect with redirect: error", async () => {
    const err = await rejection(guarded(allowLoopback(), testNet())({ url: `${server.origin}/to-hello`, redirect: "error" }));
    expect(err.code).toBe("redirect_refused");
  });
});

describe("the production resolver and connector (loopback only)", () => {
  it("directConnector opens a TCP connection to exactly the given address", async () => {
    const socket = await directConnector(
      { address: "127.0.0.1", family: 4, port, tls: false, servername: undefined },
      new AbortController().signal,
    );
    try {
      expect(socket.remoteAddress).toBe("127.0.0.1");
      expect(socket.remotePort).toBe(port);
    } finally {
      socket.destroy();
    }
  });

  it("directConnector refuses a host name instead of resolving it", async () => {
    await expect(
      directConnector({ address: "localhost", family: 4, port, tls: false, servername: undefined }, new AbortController().signal),
    ).rejects.toThrow(/must be an IP address/);
  });

  it("systemResolver returns every address of a name", async () => {
    const found = await systemResolver("localhost");
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((a) => a.family === 4 || a.family === 6)).toBe(true);
  });
});

describe("no proxy from the environment", () => {
  it("goes direct even while Node's global agent is set to an env proxy", async () => {
    const proxy = await startServer((_req, res) => res.end("from proxy"));
    const restore = http.setGlobalProxyFromEnv({ http_proxy: proxy.origin, HTTP_PROXY: proxy.origin });
    try {
      // Sanity: the proxy setting is in force for code that uses Node's agents.
      const viaAgent = await new Promise<string>((resolve, reject) => {
        http
          .get(`${server.origin}/hello`, (res) => {
            let d = "";
            res.on("data", (c) => (d += c));
            res.on("end", () => resolve(d));
          })
          .on("error", reject);
      });
      expect(viaAgent).toBe("from proxy");
      const hits = proxy.requests.length;
      const res = await guarded(allowLoopback(), testNet())({ url: `${server.origin}/hello` });
      expect(Buffer.from(res.body).toString()).toBe("hello");
      expect(proxy.requests.length).toBe(hits);
    } finally {
      restore();
      await proxy.close();
    }
  });
});
