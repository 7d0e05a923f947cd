// The production connector's TLS path against a real TLS server on 127.0.0.1 with a self-signed
// certificate for secure.test (test/fetch/fixtures, generated once with openssl, test-only key).
import { readFileSync } from "node:fs";
import tls from "node:tls";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guarded, rejection, testNet } from "./harness.ts";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
let server: tls.Server;
let port: number;
const sniSeen: string[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  const key = fixture("self-signed-secure.test.key.pem");
  const cert = fixture("self-signed-secure.test.cert.pem");
  server = tls.createServer(
    {
      key,
      cert,
      SNICallback: (name, cb) => {
        sniSeen.push(name);
        cb(null, tls.createSecureContext({ key, cert }));
      },
    },
    (socket) => socket.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"),
  );
  server.on("tlsClientError", () => {}); // the client refusing our certificate is the expected outcome
  // A TLS server socket that has ended its side does not always notice the client's close (seen with
  // a plain tls.connect client too): the fixture ends its own sockets at the end.
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(
  () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
);

describe("TLS through the production connector", () => {
  it("dials the checked IP, sends the URL's host as SNI, and refuses a certificate no CA vouches for", async () => {
    const netw = testNet({ "secure.test": ["127.0.0.1"] }, { tlsDirect: true });
    const fetch = guarded({ allow: [`https://secure.test:${port}/`], allowPrivateAddresses: ["127.0.0.1"] }, netw);
    const err = await rejection(fetch({ url: `https://secure.test:${port}/` }));
    expect(err.code).toBe("network");
    expect(err.message).toBe("fetch failed: TLS error talking to secure.test (DEPTH_ZERO_SELF_SIGNED_CERT)");
    expect(sniSeen).toContain("secure.test");
    expect(netw.attempts).toEqual([{ address: "127.0.0.1", family: 4, port, tls: true, servername: "secure.test" }]);
  });

  it("trusts a private CA given as fetch.ca, still checking the name, and refuses a non-PEM ca", async () => {
    const ca = [fixture("self-signed-secure.test.cert.pem").toString()];
    const netw = testNet({ "secure.test": ["127.0.0.1"], "other.test": ["127.0.0.1"] }, { tlsDirect: true });
    const fetch = guarded(
      { allow: [`https://secure.test:${port}/`, `https://other.test:${port}/`], allowPrivateAddresses: ["127.0.0.1"], ca },
      netw,
    );
    const ok = await fetch({ url: `https://secure.test:${port}/` });
    expect(ok.status).toBe(200);
    expect(Buffer.from(ok.body).toString()).toBe("ok");
    // The same certificate for another name: trusted CA or not, the name must match.
    const wrongName = await rejection(fetch({ url: `https://other.test:${port}/` }));
    expect(wrongName.message).toMatch(/TLS error talking to other\.test/);
    expect(() => guarded({ allow: ["secure.test"], ca: ["not a certificate"] }, netw)).toThrow(/ca\.0.*PEM/);
  });

  it("sends no SNI for an IP-literal https URL (SNI cannot carry an IP)", async () => {
    sniSeen.length = 0;
    const netw = testNet({}, { tlsDirect: true });
    const err = await rejection(guarded({ allow: [`127.0.0.1:${port}`] }, netw)({ url: `https://127.0.0.1:${port}/` }));
    expect(err.message).toMatch(/TLS error/);
    expect(sniSeen).toEqual([]);
    expect(netw.attempts[0]?.servername).toBeUndefined();
  });
});
