// The address guard, without any server: every hostile target must be refused before the
// connector is asked for a socket (the test connector would refuse non-loopback anyway, so a broken
// guard shows up as a recorded attempt, never as a real connection).
import { describe, expect, it } from "vitest";
import { FetchError } from "../../src/fetch/index.ts";
import { guarded, rejection, testNet } from "./harness.ts";

const ANY = { allow: ["*:*"] }; // any host, any port: only the address guard stands in the way

describe("address guard on IP-literal URLs (allow-list admits any host)", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["loopback 127.0.0.1", "http://127.0.0.1/", /is a loopback address/],
    ["loopback elsewhere in 127/8", "http://127.8.9.10:8080/", /loopback/],
    ["IPv6 loopback [::1]", "http://[::1]/", /loopback/],
    ["cloud metadata 169.254.169.254", "http://169.254.169.254/latest/meta-data/", /link-local/],
    ["private 10.0.0.1", "http://10.0.0.1/", /private/],
    ["private 172.16.0.1", "http://172.16.0.1/", /private/],
    ["private 192.168.1.1", "http://192.168.1.1/", /private/],
    ["carrier-grade NAT 100.64.0.1", "http://100.64.0.1/", /carrier-grade NAT/],
    ["unspecified 0.0.0.0 (dials the local host on Linux)", "http://0.0.0.0/", /unspecified/],
    ["unspecified written as 0", "http://0/", /unspecified/],
    ["IPv6 unspecified [::]", "http://[::]/", /unspecified/],
    ["multicast 224.0.0.1", "http://224.0.0.1/", /multicast/],
    ["broadcast 255.255.255.255", "http://255.255.255.255/", /broadcast/],
    ["decimal IPv4 spelling http://2130706433/", "http://2130706433/", /loopback/],
    ["hex IPv4 spelling 0x7f.0.0.1", "http://0x7f.0.0.1/", /loopback/],
    ["octal IPv4 spelling 0177.0.0.1", "http://0177.0.0.1/", /loopback/],
    ["short IPv4 spelling 127.1", "http://127.1/", /loopback/],
    ["IPv4-mapped IPv6 ::ffff:127.0.0.1", "http://[::ffff:127.0.0.1]/", /loopback/],
    ["IPv4-mapped metadata ::ffff:169.254.169.254", "http://[::ffff:a9fe:a9fe]/", /link-local/],
    ["IPv4-compatible IPv6 ::127.0.0.1", "http://[::7f00:1]/", /reserved/],
    ["NAT64 64:ff9b::169.254.169.254", "http://[64:ff9b::a9fe:a9fe]/", /NAT64/],
    ["unique-local fd00::1 (fc00::/7)", "http://[fd00::1]/", /unique-local/],
    ["link-local fe80::1", "http://[fe80::1]/", /link-local/],
    ["6to4 embedding 127.0.0.1", "http://[2002:7f00:1::]/", /6to4/],
  ];
  for (const [attack, url, reason] of cases) {
    it(`refuses ${attack} before any socket opens`, async () => {
      const netw = testNet();
      const err = await rejection(guarded(ANY, netw)({ url }));
      expect(err).toBeInstanceOf(FetchError);
      expect(err.code).toBe("address_refused");
      expect(err.message).toMatch(reason);
      expect(netw.attempts).toEqual([]);
      expect(netw.lookups).toEqual([]); // a literal is never sent to DNS
    });
  }
});

describe("address guard after DNS resolution", () => {
  it("refuses a name resolving to loopback, without naming the address", async () => {
    const netw = testNet({ "evil.test": ["127.0.0.1"] });
    const err = await rejection(guarded({ allow: ["evil.test"] }, netw)({ url: "http://evil.test/" }));
    expect(err.code).toBe("address_refused");
    expect(err.message).toBe("fetch refused: evil.test resolves to a loopback address");
    expect(netw.lookups).toEqual(["evil.test"]);
    expect(netw.attempts).toEqual([]);
  });

  it("refuses a name with one public and one private address (no fallback, no round-robin luck)", async () => {
    const netw = testNet({ "mixed.test": ["93.184.216.34", "10.0.0.5"] });
    const err = await rejection(guarded({ allow: ["mixed.test"] }, netw)({ url: "http://mixed.test/" }));
    expect(err.code).toBe("address_refused");
    expect(err.message).not.toContain("10.0.0.5");
    expect(netw.attempts).toEqual([]);
  });

  it("refuses a name resolving to the metadata address 169.254.169.254", async () => {
    const netw = testNet({ "metadata.test": ["169.254.169.254"] });
    const err = await rejection(guarded({ allow: ["metadata.test"] }, netw)({ url: "http://metadata.test/latest/" }));
    expect(err.message).toMatch(/link-local/);
    expect(netw.attempts).toEqual([]);
  });

  it("refuses a resolver answer in IPv4-mapped IPv6 form (::ffff:10.0.0.1)", async () => {
    const netw = testNet({ "mapped.test": ["::ffff:10.0.0.1"] });
    const err = await rejection(guarded({ allow: ["mapped.test"] }, netw)({ url: "http://mapped.test/" }));
    expect(err.message).toMatch(/private/);
    expect(netw.attempts).toEqual([]);
  });

  it("refuses a resolver answer that is not an IP (the connector would resolve it again, unguarded)", async () => {
    const netw = testNet({ "cname.test": ["localhost"] });
    const err = await rejection(guarded({ allow: ["cname.test"] }, netw)({ url: "http://cname.test/" }));
    expect(err.code).toBe("address_refused");
    expect(netw.attempts).toEqual([]);
  });

  it("never asks the resolver about localhost, and refuses it unless an entry names localhost", async () => {
    const netw = testNet({ localhost: ["93.184.216.34"] });
    const err = await rejection(guarded(ANY, netw)({ url: "http://localhost:8080/" }));
    expect(err.message).toMatch(/loopback/);
    expect(netw.lookups).toEqual([]);
    expect(netw.attempts).toEqual([]);
  });

  it("hands the connector exactly the checked public address, with the host name for SNI", async () => {
    const netw = testNet({ "public.test": ["93.184.216.34"] });
    const err = await rejection(guarded({ allow: ["public.test"] }, netw)({ url: "https://public.test/x" }));
    // The test connector refused it (no socket): the guard let a public address through, as it should.
    expect(err.code).toBe("network");
    expect(netw.attempts).toEqual([{ address: "93.184.216.34", family: 4, port: 443, tls: true, servername: "public.test" }]);
  });

  it("reports an unknown name as unresolvable, not as the resolver's text", async () => {
    const netw = testNet();
    const err = await rejection(guarded({ allow: ["nowhere.test"] }, netw)({ url: "http://nowhere.test/" }));
    expect(err.message).toBe("fetch failed: could not resolve nowhere.test");
  });
});

describe("allowPrivateAddresses", () => {
  it("lets a CIDR through to the connector and still refuses other private ranges", async () => {
    const netw = testNet({ "db.test": ["10.1.2.3"], "other.test": ["192.168.0.9"] });
    const fetch = guarded({ allow: ["db.test", "other.test"], allowPrivateAddresses: ["10.0.0.0/8"] }, netw);
    await rejection(fetch({ url: "http://db.test/" }));
    expect(netw.attempts.map((a) => a.address)).toEqual(["10.1.2.3"]); // passed the guard; the test connector refused
    const err = await rejection(fetch({ url: "http://other.test/" }));
    expect(err.code).toBe("address_refused");
    expect(netw.attempts).toHaveLength(1);
  });

  it("still refuses 0.0.0.0 and multicast when every private range is allowed", async () => {
    const netw = testNet({ "zero.test": ["0.0.0.0"], "multi.test": ["ff02::1"] });
    const fetch = guarded({ allow: ["zero.test", "multi.test"], allowPrivateAddresses: true }, netw);
    expect((await rejection(fetch({ url: "http://zero.test/" }))).message).toMatch(/unspecified/);
    expect((await rejection(fetch({ url: "http://multi.test/" }))).message).toMatch(/multicast/);
    expect(netw.attempts).toEqual([]);
  });

  it("an IP-literal allow entry unlocks that address only, not its neighbours", async () => {
    const netw = testNet();
    const fetch = guarded({ allow: ["10.0.0.1", "*"] }, netw);
    await rejection(fetch({ url: "http://10.0.0.1/" }));
    expect(netw.attempts.map((a) => a.address)).toEqual(["10.0.0.1"]);
    expect((await rejection(fetch({ url: "http://10.0.0.2/" }))).code).toBe("address_refused");
    expect(netw.attempts).toHaveLength(1);
  });
});
