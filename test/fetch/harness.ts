// Test network for the guarded fetch. Every test goes through `testNet`: a resolver that only knows
// the names a test gives it, and a connector that records each attempt and opens a socket only to
// 127.0.0.1 or ::1. So even with the guard broken, no test can connect anywhere but loopback; a
// hostile test asserts `attempts` is empty, i.e. the refusal came before any socket was opened.
import http from "node:http";
import net, { type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { createGuardedFetch, directConnector, type ConnectTarget, type FetchOptions, type GuardedFetch } from "../../src/fetch/index.ts";

export type TestNet = {
  lookups: string[];
  attempts: ConnectTarget[];
  lookup: (hostname: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;
  connect: (target: ConnectTarget, signal: AbortSignal) => Promise<Socket>;
};

const LOOPBACK = new Set(["127.0.0.1", "::1"]);

/**
 * `names` maps host names to the addresses the fake resolver returns. `tlsAsPlain` lets an https
 * target be served by a plain loopback HTTP server (the connector decides how bytes travel; the
 * guarded fetch only sees a socket), for the https→http downgrade test. `tlsDirect` hands loopback
 * https targets to the production connector (certificate and SNI checks).
 */
export function testNet(names: Record<string, string[]> = {}, opts: { tlsAsPlain?: boolean; tlsDirect?: boolean } = {}): TestNet {
  const lookups: string[] = [];
  const attempts: ConnectTarget[] = [];
  return {
    lookups,
    attempts,
    async lookup(hostname) {
      lookups.push(hostname);
      const found = Object.hasOwn(names, hostname) ? names[hostname]! : undefined;
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    },
    connect(target, signal) {
      attempts.push(target);
      if (!LOOPBACK.has(target.address)) return Promise.reject(new Error(`test connector refuses ${target.address}`));
      if (target.tls && opts.tlsDirect) return directConnector(target, signal);
      if (target.tls && !opts.tlsAsPlain) return Promise.reject(new Error("test connector has no TLS"));
      return new Promise((resolve, reject) => {
        const socket = net.connect({ host: target.address, port: target.port });
        const onAbort = () => {
          socket.destroy();
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        socket.once("connect", () => {
          signal.removeEventListener("abort", onAbort);
          resolve(socket);
        });
        socket.once("error", (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        });
      });
    },
  };
}

/** A guarded fetch wired to a test network, never to the real one. */
export function guarded(options: FetchOptions, netw: TestNet): GuardedFetch {
  return createGuardedFetch(options, { lookup: netw.lookup, connect: netw.connect });
}

export type TestServer = {
  port: number;
  origin: string;
  /** Requests seen, in order. */
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; rawHeaders: string[]; body: Buffer }>;
  /** Resolves when every connection the server accepted so far has closed. */
  connectionsClosed(): Promise<void>;
  close(): Promise<void>;
};

/** A real HTTP server on 127.0.0.1; the handler gets the request with its body read. */
export async function startServer(
  handler: (req: http.IncomingMessage & { body: Buffer }, res: http.ServerResponse) => void,
): Promise<TestServer> {
  const requests: TestServer["requests"] = [];
  const sockets = new Set<Socket>();
  const closed: Promise<void>[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, rawHeaders: req.rawHeaders, body });
      handler(Object.assign(req, { body }), res);
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    closed.push(
      new Promise((r) =>
        s.once("close", () => {
          sockets.delete(s);
          r();
        }),
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    connectionsClosed: () => Promise.all(closed).then(() => undefined),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Awaits a rejection and returns it (fails the test if the promise resolved). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  const outcome = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.v)}`);
  return outcome.e as Error & { code?: string };
}
