// The container image's name: `isobox-python:<hash of the recipe>`. The hash covers the package list
// and the in-container runner, so a checkout never talks to an image built from another runner
// (the frame protocol and the runner change together). Shared by the build script and the backend.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const IMAGE_REPOSITORY = "isobox-python";
export const RECIPE_DIR = fileURLToPath(new URL("../../runtimes/container/", import.meta.url));
/** The `isobox` module (bindings, MCP tools, fetch) is the isolate's own, shipped into the image too. */
export const RECIPE_FILES = ["packages.txt", "runner.py", "../python/capabilities.py"] as const;

/** Debian packages of the image, from runtimes/container/packages.txt. */
export function imagePackages(): string[] {
  return readFileSync(`${RECIPE_DIR}packages.txt`, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}

export function recipeHash(): string {
  const h = createHash("sha256");
  for (const f of RECIPE_FILES) h.update(`${f}\0`).update(readFileSync(`${RECIPE_DIR}${f}`)).update("\0");
  return h.digest("hex").slice(0, 16);
}

/** The image this checkout's runner expects (built by `npm run build:image`). */
export function defaultImage(): string {
  return `${IMAGE_REPOSITORY}:${recipeHash()}`;
}
