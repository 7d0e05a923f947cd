// Runs in: the embedding process. When to list a server's tools again after its tools/list_changed
// notification: at most one listing of a server under way, at most one more queued behind it however
// many notifications arrive, and none sooner than RELIST_MIN_INTERVAL_MS after the last (threat: a
// server spamming the notification to keep the host listing and compiling schemas). What a listing
// does is McpTools' own; this only decides when it runs.

/** Least time between two re-listings of one server's tools after tools/list_changed. */
export const RELIST_MIN_INTERVAL_MS = 1_000;

/** One server's re-listing: at most one under way, and one more queued behind it at most. */
interface Relisting {
  running: boolean;
  again: boolean;
  last: number;
  timer?: NodeJS.Timeout;
}

/**
 * `list(name)` starts a listing of the server and resolves when it is done, or returns null when the
 * server has nothing to list (gone, closed): then nothing runs and nothing is counted.
 */
export type ListTools = (name: string) => Promise<void> | null;

export class RelistSchedule {
  readonly #servers = new Map<string, Relisting>();
  readonly #list: ListTools;
  #closed = false;

  constructor(list: ListTools) {
    this.#list = list;
  }

  /** tools/list_changed: list again now, or once the interval since the last listing has passed. */
  changed(name: string): void {
    if (this.#closed) return;
    let r = this.#servers.get(name);
    if (!r) this.#servers.set(name, (r = { running: false, again: false, last: -Infinity }));
    if (r.running || r.timer) {
      r.again = true; // coalesced: one more listing after the current one, however many arrive
      return;
    }
    const waitMs = r.last + RELIST_MIN_INTERVAL_MS - performance.now();
    if (waitMs > 0) {
      const state = r;
      r.timer = setTimeout(() => {
        state.timer = undefined;
        void this.#run(name, state);
      }, waitMs);
      r.timer.unref();
      return;
    }
    void this.#run(name, r);
  }

  async #run(name: string, r: Relisting): Promise<void> {
    if (this.#closed) return;
    const listing = this.#list(name);
    if (!listing) return;
    r.running = true;
    r.again = false;
    r.last = performance.now();
    try {
      await listing;
    } catch {
      // The server could not list: the tools it listed last stay until it can.
    } finally {
      r.running = false;
    }
    if (r.again) this.changed(name);
  }

  /** No more listings: timers waiting for the interval are cleared. */
  close(): void {
    this.#closed = true;
    for (const r of this.#servers.values()) clearTimeout(r.timer);
  }
}
