// The system resolver runs on libuv's thread pool, shared with the embedding app: lookups are capped
// at MAX_CONCURRENT_LOOKUPS process-wide (src/fetch/connect.ts). Checked on the limiter itself with
// a fake, slow resolver; no DNS is used.
import { describe, expect, it } from "vitest";
import { limitConcurrency, MAX_CONCURRENT_LOOKUPS, type FetchResolver } from "../../src/fetch/connect.ts";

function slowResolver(ms: number) {
  const state = { running: 0, peak: 0, calls: [] as string[] };
  const resolve: FetchResolver = async (hostname) => {
    state.calls.push(hostname);
    state.running++;
    state.peak = Math.max(state.peak, state.running);
    await new Promise((r) => setTimeout(r, ms));
    state.running--;
    return [{ address: "192.0.2.1", family: 4 }];
  };
  return { state, resolve };
}

describe("lookup concurrency limit", () => {
  it("never runs more than the cap at once, and every lookup still completes in order", async () => {
    // Attack: 50 fetches of slow names at once, to fill the thread pool the embedding app uses.
    const { state, resolve } = slowResolver(20);
    const limited = limitConcurrency(resolve, MAX_CONCURRENT_LOOKUPS);
    const names = Array.from({ length: 50 }, (_, i) => `n${i}.test`);
    const results = await Promise.all(names.map((n) => limited(n)));
    expect(results).toHaveLength(50);
    expect(state.peak).toBe(MAX_CONCURRENT_LOOKUPS);
    expect(state.calls).toEqual(names);
  });

  it("a lookup whose fetch is aborted while queued leaves the queue and never runs", async () => {
    const { state, resolve } = slowResolver(50);
    const limited = limitConcurrency(resolve, 1);
    const first = limited("first.test");
    const abort = new AbortController();
    const queued = limited("queued.test", abort.signal).then(
      () => "resolved",
      (e: unknown) => e,
    );
    const third = limited("third.test");
    abort.abort(new Error("fetch timed out"));
    expect(await queued).toMatchObject({ message: "fetch timed out" });
    await Promise.all([first, third]);
    expect(state.calls).toEqual(["first.test", "third.test"]);
    expect(state.peak).toBe(1);
  });

  it("a failing lookup frees its slot", async () => {
    let n = 0;
    const limited = limitConcurrency(async () => {
      if (n++ === 0) throw new Error("ENOTFOUND");
      return [{ address: "192.0.2.1", family: 4 }];
    }, 1);
    await expect(limited("bad.test")).rejects.toThrow("ENOTFOUND");
    await expect(limited("good.test")).resolves.toHaveLength(1);
  });
});
