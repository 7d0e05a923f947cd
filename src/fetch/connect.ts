// The two injectable edges of the guarded fetch: the resolver (name → addresses) and the connector
// (one checked address → one open socket). Production uses the system resolver and a direct TCP/TLS
// connector; tests inject both so that no test can reach a non-loopback address even if the
// guard were broken.
import { promises as dns } from "node:dns";
import net, { type Socket } from "node:net";
import tls from "node:tls";

export type ResolvedAddress = { address: string; family: 4 | 6 };
/** Resolves a host name to every address it has. Never called for IP literals or localhost.
 * `signal` is the fetch's: a resolver may stop waiting when it aborts. */
export type FetchResolver = (hostname: string, signal?: AbortSignal) => Promise<ResolvedAddress[]>;

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

/**
 * Lookups the system resolver runs at once, for every sandbox of the process together. getaddrinfo
 * runs on libuv's thread pool (4 threads by default), which the embedding app's file system, crypto
 * and zlib calls share: threat: guests fetching names that resolve slowly, filling the pool and
 * stalling the app. Beyond this many, lookups wait their turn (still under the fetch's timeout).
 */
export const MAX_CONCURRENT_LOOKUPS = 2;

/** `resolve` with at most `max` calls under way; the rest queue in arrival order, and leave the
 * queue (without ever running) when their fetch is aborted or times out meanwhile. */
export function limitConcurrency(resolve: FetchResolver, max: number): FetchResolver {
  let running = 0;
  const queue: Array<() => void> = [];
  // A finishing call hands its slot straight to the first in the queue (never back to the pool
  // first, where a newcomer could take it and make max + 1).
  const release = () => {
    const waiter = queue.shift();
    if (waiter) waiter();
    else running--;
  };
  const turn = (signal: AbortSignal | undefined) =>
    new Promise<void>((go, stop) => {
      if (signal?.aborted) return stop(signal.reason);
      const onAbort = () => {
        const at = queue.indexOf(start);
        if (at !== -1) queue.splice(at, 1);
        stop(signal!.reason);
      };
      const start = () => {
        signal?.removeEventListener("abort", onAbort);
        go();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      queue.push(start);
    });
  return async (hostname, signal) => {
    if (running >= max)
      await turn(signal); // the slot comes from release()
    else running++;
    try {
      return await resolve(hostname, signal);
    } finally {
      release();
    }
  };
}

const getaddrinfo: FetchResolver = async (hostname) => {
  const found = await dns.lookup(hostname, { all: true, order: "verbatim" });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

export const systemResolver: FetchResolver = limitConcurrency(getaddrinfo, MAX_CONCURRENT_LOOKUPS);

// Threat: a connector that resolves again would reopen the rebinding gap. The target is always an
// IP, so Node skips lookup; this refuses outright should that ever change.
const noLookup = ((_h: string, _o: unknown, cb: (err: Error) => void) =>
  cb(new Error("DNS is not allowed in the connector"))) as unknown as net.LookupFunction;

export const directConnector: FetchConnector = (target, signal) =>
  new Promise<Socket>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    if (net.isIP(target.address) === 0) return reject(new Error("connector target must be an IP address"));
    const base = { host: target.address, port: target.port, lookup: noLookup };
    const socket = target.tls
      ? tls.connect({
          ...base,
          ALPNProtocols: ["http/1.1"],
          ...(target.servername ? { servername: target.servername } : {}),
          ...(target.ca ? { ca: [...target.ca] } : {}),
        })
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
