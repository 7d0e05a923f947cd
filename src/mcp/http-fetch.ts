// The fetch the streamable-HTTP transport uses. Two defences the SDK does not give:
// - Size: a server (or a guest steering a tool, e.g. "read this 4 GB file") must not make the host
//   buffer an unbounded message. JSON bodies are capped whole; SSE streams per event, since a
//   stream legitimately carries many messages over its life.
// - Liveness: when a POST's SSE stream breaks (server died, socket reset) or is cut for size, the SDK
//   would leave the request pending until its timeout (it only resumes streams that carry event ids).
//   We finish the stream with a JSON-RPC error for the request ids of that POST, so the call fails at
//   once with a precise cause. Hand-rolled because this is the SDK's transport seam, not a library's.

/** JSON-RPC error codes we inject; McpTools maps them to McpCallError codes. */
export const BROKEN_STREAM_CODE = -32097;
export const TOO_LARGE_CODE = -32098;

/** Thrown into a JSON body read that went over the cap (the SDK rethrows it from `callTool`). */
export class MessageTooLargeError extends Error {
  override name = "MessageTooLargeError";
}

function requestIds(body: unknown): Array<string | number> {
  if (typeof body !== "string") return [];
  try {
    const parsed: unknown = JSON.parse(body);
    const msgs = Array.isArray(parsed) ? parsed : [parsed];
    return msgs.flatMap((m) => {
      const id = (m as { id?: unknown; method?: unknown } | null)?.id;
      return (typeof id === "string" || typeof id === "number") && typeof (m as { method?: unknown }).method === "string" ? [id] : [];
    });
  } catch {
    return [];
  }
}

function errorEvents(ids: Array<string | number>, code: number, message: string): Uint8Array {
  // Leading blank line: terminates whatever partial event the cut left in the SSE parser.
  const events = ids.map((id) => `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } })}\n\n`);
  return new TextEncoder().encode(`\n\n${events.join("")}`);
}

const BOUNDARIES = ["\n\n", "\r\n\r\n", "\r\r"].map((b) => Buffer.from(b));

/** Bytes after the last SSE event boundary in `tail + chunk`, or -1 if there is none. */
function bytesAfterBoundary(joined: Buffer): number {
  let best = -1;
  for (const b of BOUNDARIES) {
    const at = joined.lastIndexOf(b);
    if (at >= 0) best = Math.max(best, joined.length - (at + b.length));
  }
  return best;
}

function cappedBody(
  upstream: ReadableStream<Uint8Array>,
  isSse: boolean,
  max: number,
  ids: Array<string | number>,
): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  let pending = 0; // JSON: whole body; SSE: bytes of the event in progress
  let tail = Buffer.alloc(0);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        if (!isSse) return controller.error(new Error("the MCP server's response broke off"));
        controller.enqueue(errorEvents(ids, BROKEN_STREAM_CODE, "the MCP server's response stream broke off"));
        return controller.close();
      }
      if (chunk.done) return controller.close();
      const bytes = chunk.value;
      if (isSse) {
        const joined = Buffer.concat([tail, bytes]);
        const after = bytesAfterBoundary(joined);
        pending = after >= 0 ? after : pending + bytes.length;
        tail = joined.subarray(Math.max(0, joined.length - 3));
      } else {
        pending += bytes.length;
      }
      if (pending <= max) return controller.enqueue(bytes);
      void reader.cancel().catch(() => {});
      if (!isSse) return controller.error(new MessageTooLargeError(`a message from the MCP server exceeded ${max} bytes`));
      controller.enqueue(errorEvents(ids, TOO_LARGE_CODE, `a message from the MCP server exceeded ${max} bytes`));
      controller.close();
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** A fetch whose response bodies are size-capped and whose broken POST streams fail their requests. */
export function cappedFetch(maxMessageBytes: number, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const res = await base(input, init);
    // Redirects and bodiless statuses are passed through: the SDK reads only their headers, and a
    // Response cannot be rebuilt with a body for 204/205/304. Error statuses are capped like the rest:
    // the SDK reads their whole body into its error message.
    if (!res.body || (res.status >= 300 && res.status < 400) || res.status === 204 || res.status === 205) return res;
    const isSse = (res.headers.get("content-type") ?? "").toLowerCase().includes("text/event-stream");
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (!isSse && declared > maxMessageBytes) {
      await res.body.cancel().catch(() => {});
      throw new MessageTooLargeError(`a message from the MCP server exceeded ${maxMessageBytes} bytes`);
    }
    const ids = init?.method === "POST" ? requestIds(init.body) : [];
    return new Response(cappedBody(res.body, isSse, maxMessageBytes, ids), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
}
