// Runs in: the embedding process. Set-up failures (bad options, no Docker, no image, an MCP server
// that cannot start): thrown at the caller as one IsoboxError class with a code to branch on, never
// bare strings (fastify's FST_ERR_* catalogue, piscina's errors.ts). A guest's failures are never
// thrown: they are RunResult statuses (outcomes.ts).

export type IsoboxErrorCode =
  | "INVALID_OPTIONS" // createSandbox options, or an argument of describe()/endSession()
  | "NO_DOCKER" // the container backend's daemon cannot be reached
  | "NO_RUNTIME" // the daemon has no runsc (or the asked-for) runtime
  | "NO_IMAGE" // the container image is missing: `npm run build:image`
  | "MCP_CONNECT" // an MCP server could not be connected or listed
  | "HOST_START"; // the sandbox host process could not start

/**
 * A TypeError, as isobox's set-up failures were before this class and as Node's own coded argument
 * errors are, so existing `instanceof TypeError` checks keep working; branch on `code`.
 */
export class IsoboxError extends TypeError {
  override name = "IsoboxError";
  readonly code: IsoboxErrorCode;
  constructor(code: IsoboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(`isobox: ${message}`, options);
    this.code = code;
  }
}

export function invalidOptions(message: string): IsoboxError {
  return new IsoboxError("INVALID_OPTIONS", `invalid sandbox options: ${message}`);
}
