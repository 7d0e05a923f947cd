// Runs in: the embedding process (and the image build script). The container image's name:
// `isobox-python:<hash of the recipe>`. The hash covers the package list and the in-container
// runner, so a checkout never talks to an image built from another runner (the frame protocol and
// the runner change together). Shared by the build script and the backend.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const IMAGE_REPOSITORY = "isobox-python";
export const RECIPE_DIR = fileURLToPath(new URL("../../runtimes/container/", import.meta.url));
/** The runner and its host channel, plus the isolate's own Python modules it shares (the result
 * envelope, and the `isobox` module of bindings, MCP tools and fetch), all copied into the image. */
const RECIPE_FILES = ["packages.txt", "runner.py", "channel.py", "../python/results.py", "../python/capabilities.py"] as const;
/** The files of RECIPE_FILES that go to /opt/isobox in the image. */
export const IMAGE_FILES = RECIPE_FILES.filter((f) => f.endsWith(".py"));

/** Debian packages of the image, from runtimes/container/packages.txt. */
export function imagePackages(): string[] {
  return readFileSync(`${RECIPE_DIR}packages.txt`, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

function recipeHash(): string {
  const h = createHash("sha256");
  for (const f of RECIPE_FILES)
    h.update(`${f}\0`)
      .update(readFileSync(`${RECIPE_DIR}${f}`))
      .update("\0");
  return h.digest("hex").slice(0, 16);
}

/** The image this checkout's runner expects (built by `npm run build:image`). */
export function defaultImage(): string {
  return `${IMAGE_REPOSITORY}:${recipeHash()}`;
}
