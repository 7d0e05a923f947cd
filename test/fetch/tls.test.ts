// The production connector's TLS path against a real TLS server on 127.0.0.1 with a self-signed
// certificate for secure.test (test/fetch/fixtures, generated once with openssl, test-only key).
import { readFileSync } from "node:fs";
import tls from "node:tls";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guarded, rejection, testNet } from "./harness.ts";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
let server: tls.Server;
let port: number;
const sniSeen: string[] = [];

beforeAll(async () => {
  const key = fixture("self-signed-secure.test.key.pem");
  const cert = fixture("self-signed-secure.test.cert.pem");
  server = tls.createServer({
    key, cert,
    SNICallback: (name, cb) => { sniSeen.push(name); cb(null, tls.createSecureContext({ key, cert })); },
  }, (socket) => socket.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"));
  server.on("tlsClientError", () => {}); // the client refusing our certificate is the expected outcome
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

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

  it("sends no SNI for an IP-literal https URL (SNI cannot carry an IP)", async () => {
    sniSeen.length = 0;
    const netw = testNet({}, { tlsDirect: true });
    const err = await rejection(guarded({ allow: [`127.0.0.1:${port}`] }, netw)({ url: `https://127.0.0.1:${port}/` }));
    expect(err.message).toMatch(/TLS error/);
    expect(sniSeen).toEqual([]);
    expect(netw.attempts[0]?.servername).toBeUndefined();
  });
});
