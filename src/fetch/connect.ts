// The two injectable edges of the guarded fetch: the resolver (name → addresses) and the connector
// (one checked address → one open socket). Production uses the system resolver and a direct TCP/TLS
// connector; tests inject both so that no test can reach a non-loopback address even if the
// guard were broken.
import { promises as dns } from "node:dns";
import net, { type Socket } from "node:net";
import tls from "node:tls";

export type ResolvedAddress = { address: string; family: 4 | 6 };
/** Resolves a host name to every address it has. Never called for IP literals or localhost. */
export type FetchResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export type ConnectTarget = {
  /** The address the guard approved, canonical form. The connector must dial exactly this. */
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
  /** https: wrap in TLS, verify the certificate for `servername` (or for `address` when undefined). */
  readonly tls: boolean;
  /** The URL's host name for SNI and certificate checks; undefined for IP-literal URLs. */
  readonly servername: string | undefined;
  /** Certificate authorities to trust for https: Node's roots plus the sandbox's `fetch.ca`. */
  readonly ca?: readonly string[];
};
/** Opens one connection and resolves once it is usable (after the TLS handshake for https). */
export type FetchConnector = (target: ConnectTarget, signal: AbortSignal) => Promise<Socket>;

export const systemResolver: FetchResolver = async (hostname) => {
  const found = await dns.lookup(hostname, { all: true, order: "verbatim" });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

// Threat: a connector that resolves again would reopen the rebinding gap. The target is always an
// IP, so Node skips lookup; this refuses outright should that ever change.
const noLookup = ((_h: string, _o: unknown, cb: (err: Error) => void) => cb(new Error("DNS is not allowed in the connector"))) as unknown as net.LookupFunction;

export const directConnector: FetchConnector = (target, signal) =>
  new Promise<Socket>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    if (net.isIP(target.address) === 0) return reject(new Error("connector target must be an IP address"));
    const base = { host: target.address, port: target.port, lookup: noLookup };
    const socket = target.tls
      ? tls.connect({ ...base, ALPNProtocols: ["http/1.1"], ...(target.servername ? { servername: target.servername } : {}), ...(target.ca ? { ca: [...target.ca] } : {}) })
      : net.connect(base);
    const ready = target.tls ? "secureConnect" : "connect";
    const onAbort = () => fail(signal.reason);
    const settle = () => {
      signal.removeEventListener("abort", onAbort);
      socket.off("error", fail);
      socket.off(ready, done);
    };
    const done = () => {
      settle();
      resolve(socket);
    };
    function fail(err: unknown) {
      settle();
      socket.destroy();
      reject(err);
    }
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", fail);
    socket.once(ready, done);
  });
