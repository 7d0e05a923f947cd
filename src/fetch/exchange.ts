// One HTTP/1.1 request and its response over a socket the guarded fetch already opened to a checked
// address. No Agent is involved (so no connection reuse across guests and no proxy taken from the
// environment: Node 24's NODE_USE_ENV_PROXY only affects agents), and the size cap is enforced as
// bytes arrive.
import http from "node:http";
import type { Socket } from "node:net";
import { FetchError, networkError } from "./errors.ts";
import { responseHeaders, type HeaderPairs } from "./headers.ts";

export type ExchangeRequest = {
  readonly url: URL;
  readonly method: string;
  readonly headers: HeaderPairs;
  readonly body: Buffer | undefined;
};

export type ExchangeResponse = {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  /** undefined when `wantsBody` said no (a redirect about to be followed). */
  body: Uint8Array<ArrayBuffer> | undefined;
};

export type ExchangeLimits = {
  readonly maxResponseBytes: number;
  readonly wantsBody: (status: number, headers: Record<string, string>) => boolean;
};

const MAX_RESPONSE_HEADER_BYTES = 64 * 1024;

/** The headers actually sent: the host's framing and Host first, then the guest's validated ones. */
function wireHeaders(req: ExchangeRequest): string[] {
  const out = ["host", req.url.host, "connection", "close", "accept-encoding", "identity"];
  const needsLength = req.body !== undefined || !["GET", "HEAD", "OPTIONS", "DELETE"].includes(req.method);
  if (needsLength) out.push("content-length", String(req.body?.length ?? 0));
  for (const [name, value] of req.headers) out.push(name, value);
  return out;
}

/** Runs the exchange; the caller owns `socket` and destroys it afterwards, whatever happened. */
export function exchange(socket: Socket, req: ExchangeRequest, limits: ExchangeLimits, signal: AbortSignal): Promise<ExchangeResponse> {
  return new Promise<ExchangeResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: unknown, value?: ExchangeResponse) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (err !== undefined) {
        socket.destroy(); // stop reading: the cap or the deadline was hit, or the peer misbehaved
        reject(signal.aborted ? signal.reason : networkError(err, req.url.hostname));
      } else resolve(value!);
    };
    const onAbort = () => finish(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });

    const request = http.request({
      method: req.method,
      path: `${req.url.pathname}${req.url.search}`,
      headers: wireHeaders(req),
      setHost: false,
      createConnection: () => socket,
      maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
    });
    request.on("error", (err) => finish(err));
    request.on("response", (res) => {
      const head = { status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", headers: responseHeaders(res.rawHeaders) };
      if (!limits.wantsBody(head.status, head.headers)) {
        res.destroy();
        return finish(undefined, { ...head, body: undefined });
      }
      const tooLarge = () =>
        new FetchError("too_large", `fetch failed: response body is larger than the ${limits.maxResponseBytes}-byte limit`);
      // Threat: a declared size past the cap is refused before a byte of it is read.
      const declared = Number(head.headers["content-length"] ?? NaN);
      if (declared > limits.maxResponseBytes) return finish(tooLarge());
      const chunks: Buffer[] = [];
      let received = 0;
      res.on("data", (chunk: Buffer) => {
        received += chunk.length;
        // Threat: an undeclared (chunked) or lying body; the socket is destroyed at the first byte past the cap.
        if (received > limits.maxResponseBytes) return finish(tooLarge());
        chunks.push(chunk);
      });
      res.on("error", (err) => finish(err));
      res.on("close", () => {
        if (!res.complete) finish(Object.assign(new Error("response ended early"), { code: "ECONNRESET" }));
      });
      res.on("end", () => finish(undefined, { ...head, body: joinChunks(chunks, received) }));
    });
    request.end(req.body);
  });
}

/** One copy into a Uint8Array that owns its whole ArrayBuffer (a pooled Buffer slice would carry neighbours' bytes across a transfer). */
function joinChunks(chunks: readonly Buffer[], length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
