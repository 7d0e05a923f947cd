// Hostile behaviour from an allowed (loopback) server: redirects out of the allowed set, redirect
// loops, downgrades, oversized bodies and silence. Each redirect target is judged before any socket
// to it opens: the recorder shows only the connection to the allowed server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guarded, rejection, startServer, testNet, type TestServer } from "./harness.ts";

let server: TestServer;
let port: number;
const KiB = 1024;
let dripStopped: { bytesWritten: number; closedEarly: boolean } | undefined;

beforeAll(async () => {
  server = await startServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const redirect = (location: string, status = 302) => {
      res.writeHead(status, { location });
      res.end();
    };
    switch (url.pathname) {
      case "/to-private":
        return redirect("http://10.0.0.1/admin");
      case "/to-metadata":
        return redirect("http://169.254.169.254/latest/meta-data/iam/");
      case "/to-internal-name":
        return redirect("http://internal.test/");
      case "/to-loopback-name":
        return redirect(`http://sneaky.test:${port}/ok`);
      case "/to-other-host":
        return redirect("http://evil.test/");
      case "/to-file":
        return redirect("file:///etc/passwd");
      case "/loop":
        return redirect(`/loop?n=${Number(url.searchParams.get("n") ?? 0) + 1}`);
      case "/downgrade":
        return redirect(`http://secure.test:${port}/ok`);
      case "/ok":
        return res.end("ok");
      case "/big-declared":
        res.setHeader("content-length", String(64 * KiB));
        return res.end(Buffer.alloc(64 * KiB, 1));
      case "/big-chunked": {
        // Writes up to 4 MiB in 16 KiB chunks, stopping when the client goes away.
        let written = 0;
        const state = { bytesWritten: 0, closedEarly: false };
        dripStopped = state;
        res.on("close", () => {
          state.closedEarly = written < 4096 * KiB;
        });
        const pump = () => {
          while (written < 4096 * KiB && !res.destroyed) {
            written += 16 * KiB;
            state.bytesWritten = written;
            if (!res.write(Buffer.alloc(16 * KiB, 2))) return void res.once("drain", pump);
          }
          if (!res.destroyed) res.end();
        };
        return pump();
      }
      case "/silent":
        return; // never answers
      case "/slow-body":
        res.writeHead(200, { "content-length": "10" });
        return res.write("12345"); // and never the rest
      default:
        res.statusCode = 404;
        return res.end();
    }
  });
  port = server.port;
});
afterAll(() => server.close());

const origin = () => `http://127.0.0.1:${port}`;

describe("redirects out of the allowed set", () => {
  it("refuses an allowed host redirecting to a private address, before connecting to it", async () => {
    const netw = testNet();
    const err = await rejection(guarded({ allow: [`127.0.0.1:${port}`, "*"] }, netw)({ url: `${origin()}/to-private` }));
    expect(err.code).toBe("address_refused");
    expect(err.message).toBe("fetch refused: 10.0.0.1 is a private address");
    expect(netw.attempts.map((a) => a.address)).toEqual(["127.0.0.1"]);
  });

  it("refuses a redirect to the cloud metadata address", async () => {
    const netw = testNet();
    const err = await rejection(guarded({ allow: [`127.0.0.1:${port}`, "*"] }, netw)({ url: `${origin()}/to-metadata` }));
    expect(err.code).toBe("address_refused");
    expect(netw.attempts).toHaveLength(1);
  });

  it("refuses a redirect to an allowed name that resolves to a private address", async () => {
    const netw = testNet({ "internal.test": ["192.168.0.10"] });
    const err = await rejection(guarded({ allow: [`127.0.0.1:${port}`, "internal.test"] }, netw)({ url: `${origin()}/to-internal-name` }));
    expect(err.code).toBe("address_refused");
    expect(netw.lookups).toEqual(["internal.test"]);
    expect(netw.attempts).toHaveLength(1);
  });

  it("refuses a redirect to an allowed name that resolves to loopback (the IP entry does not extend to names)", async () => {
    const netw = testNet({ "sneaky.test": ["127.0.0.1"] });
    const err = await rejection(
      guarded({ allow: [`127.0.0.1:${port}`, `sneaky.test:${port}`] }, netw)({ url: `${origin()}/to-loopback-name` }),
    );
    expect(err.code).toBe("address_refused");
    expect(netw.attempts).toHaveLength(1);
  });

  it("refuses a redirect to a host outside the allow-list, without resolving it", async () => {
    const netw = testNet({ "evil.test": ["127.0.0.1"] });
    const err = await rejection(guarded({ allow: [`127.0.0.1:${port}`] }, netw)({ url: `${origin()}/to-other-host` }));
    expect(err.code).toBe("not_allowed");
    expect(err.message).toBe("fetch refused: http://evil.test/ is not in the fetch allow-list");
    expect(netw.lookups).toEqual([]);
    expect(netw.attempts).toHaveLength(1);
  });

  it("refuses a redirect to a file: URL", async () => {
    const err = await rejection(guarded({ allow: [`127.0.0.1:${port}`] }, testNet())({ url: `${origin()}/to-file` }));
    expect(err.code).toBe("not_allowed");
  });

  it("stops a redirect loop after maxRedirects", async () => {
    const before = server.requests.length;
    const err = await rejection(guarded({ allow: [`127.0.0.1:${port}`], maxRedirects: 3 }, testNet())({ url: `${origin()}/loop` }));
    expect(err.code).toBe("redirect_refused");
    expect(err.message).toBe("fetch refused: more than 3 redirects");
    expect(server.requests.length - before).toBe(4); // the first request and 3 followed redirects
  });

  it("refuses an https→http downgrade even when both URLs are allowed", async () => {
    // The test connector carries the "https" hop over plain TCP to the loopback server: the guarded
    // fetch only sees a socket, so this exercises the redirect rule without a certificate.
    const netw = testNet({ "secure.test": ["127.0.0.1"] }, { tlsAsPlain: true });
    const fetch = guarded({ allow: [`secure.test:${port}`], allowPrivateAddresses: ["127.0.0.1"] }, netw);
    const err = await rejection(fetch({ url: `https://secure.test:${port}/downgrade` }));
    expect(err.code).toBe("redirect_refused");
    expect(err.message).toMatch(/from https to http/);
    expect(netw.attempts).toEqual([{ address: "127.0.0.1", family: 4, port, tls: true, servername: "secure.test" }]);
  });
});

describe("response size cap and timeout", () => {
  it("refuses a response whose declared length is past the cap", async () => {
    const err = await rejection(
      guarded({ allow: [`127.0.0.1:${port}`], maxResponseBytes: 16 * KiB }, testNet())({ url: `${origin()}/big-declared` }),
    );
    expect(err.code).toBe("too_large");
    expect(err.message).toBe(`fetch failed: response body is larger than the ${16 * KiB}-byte limit`);
  });

  it("aborts the socket of an undeclared (chunked) body as soon as it passes the cap", async () => {
    const err = await rejection(
      guarded({ allow: [`127.0.0.1:${port}`], maxResponseBytes: 64 * KiB }, testNet())({ url: `${origin()}/big-chunked` }),
    );
    expect(err.code).toBe("too_large");
    await server.connectionsClosed();
    expect(dripStopped?.closedEarly).toBe(true); // the server saw the connection drop mid-body
    expect(dripStopped!.bytesWritten).toBeLessThan(4096 * KiB);
  });

  it("accepts a body of exactly the cap", async () => {
    const res = await guarded({ allow: [`127.0.0.1:${port}`], maxResponseBytes: 64 * KiB }, testNet())({ url: `${origin()}/big-declared` });
    expect(res.body.length).toBe(64 * KiB);
  });

  it("times out on a server that never answers, and closes the connection", async () => {
    const started = Date.now();
    const err = await rejection(guarded({ allow: [`127.0.0.1:${port}`], timeoutMs: 300 }, testNet())({ url: `${origin()}/silent` }));
    expect(err.code).toBe("timeout");
    expect(err.message).toBe("fetch timed out after 300 ms");
    expect(Date.now() - started).toBeLessThan(3000);
    await server.connectionsClosed();
  });

  it("times out on a body that stalls halfway", async () => {
    const err = await rejection(guarded({ allow: [`127.0.0.1:${port}`], timeoutMs: 300 }, testNet())({ url: `${origin()}/slow-body` }));
    expect(err.code).toBe("timeout");
  });

  it("rejects with aborted when the caller's signal fires", async () => {
    const controller = new AbortController();
    const pending = guarded({ allow: [`127.0.0.1:${port}`] }, testNet())({ url: `${origin()}/silent` }, controller.signal);
    setTimeout(() => controller.abort(), 50);
    const err = await rejection(pending);
    expect(err.code).toBe("aborted");
    await server.connectionsClosed();
  });

  it("error messages carry no host stack frames or file paths", async () => {
    const err = await rejection(guarded({ allow: [`127.0.0.1:${port}`], timeoutMs: 100 }, testNet())({ url: `${origin()}/silent` }));
    expect(err.message).not.toMatch(/\n|\/src\/|node:/);
  });
});
