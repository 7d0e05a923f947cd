// Shared by the container suites: is there a Docker daemon with the runsc runtime and the image?
// Without one the suites are skipped with the reason; with ISOBOX_REQUIRE_DOCKER=1 (CI) a missing
// daemon is a failure instead, so a skip can never pass for green there.
import Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { defaultImage } from "../../src/container/image.ts";

export const REQUIRE = process.env.ISOBOX_REQUIRE_DOCKER === "1";
/** ISOBOX_TEST_DOCKER_SOCKET: point the probe elsewhere (e.g. a missing path, to check the skip). */
export const docker = new Docker({ socketPath: process.env.ISOBOX_TEST_DOCKER_SOCKET ?? "/var/run/docker.sock" });
export const IMAGE = defaultImage();

async function probe(): Promise<string | undefined> {
  try {
    const info = (await docker.info()) as { Runtimes?: Record<string, unknown> };
    if (!info.Runtimes?.runsc) return "skipped: the Docker daemon has no runsc runtime";
  } catch {
    return "skipped: no Docker daemon";
  }
  try {
    await docker.getImage(IMAGE).inspect();
  } catch {
    return `skipped: image ${IMAGE} not built (npm run build:image)`;
  }
  return undefined;
}

/** Why the container suites cannot run here, or undefined when they can. */
export const unavailable = await probe();

/** `describe` that runs only with a daemon, is reported skipped with the reason otherwise, and
 * fails (not skips) when ISOBOX_REQUIRE_DOCKER=1. */
export function describeDocker(name: string, body: () => void): void {
  if (unavailable && REQUIRE) {
    describe(name, () => {
      it("needs a Docker daemon with runsc and the image (ISOBOX_REQUIRE_DOCKER=1)", () => {
        expect.fail(unavailable.replace(/^skipped: /, ""));
      });
    });
    return;
  }
  if (unavailable) console.warn(`${name}: ${unavailable}`);
  describe.skipIf(unavailable !== undefined)(unavailable ? `${name} (${unavailable})` : name, body);
}

/** Containers this test process's backends left behind (there must be none after each test). */
export async function leftovers(): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: ["isobox.container=1", `isobox.pid=${process.pid}`] } });
  return list.map((c) => `${c.Id.slice(0, 12)} ${c.State}`);
}
