// Timers live in the guest; the host only keeps one Node timer per guest timer and calls `fire(id)`
// back when it expires. Everything dies with the isolate at the job's deadline, so no guest timer can
// outlive its job (threat: timer floods and intervals keeping work alive after the job).
const MAX_TIMERS = 10000;
const IDLE_PROBE = 0;

function makeTimers(armTimer, cancelTimer, reportUncaught) {
  const timers = new $Map();
  let nextId = 1;
  let idleWaiters = [];
  let probeArmed = false;

  function add(fn, ms, args, repeat) {
    if (typeof fn !== "function") throw new $TypeError('The "callback" argument must be of type function');
    if (timers.size >= MAX_TIMERS) throw new $RangeError("Too many pending timers: the sandbox allows " + MAX_TIMERS);
    ms = $Number(ms);
    if (!(ms >= 1 && ms <= 2147483647)) ms = 1; // Node's rule for out-of-range delays
    const id = nextId++;
    timers.set(id, { fn, args, ms, repeat });
    armTimer(id, ms);
    return id;
  }
  function clear(id) {
    id = $Number(id);
    if (timers.delete(id)) {
      cancelTimer(id);
      checkIdle();
    }
  }
  // Idle is confirmed from a fresh host turn, after every microtask of the last callback has run,
  // so work chained through promises (await in a timer callback) is not cut short.
  function checkIdle() {
    if (timers.size === 0 && idleWaiters.length && !probeArmed) {
      probeArmed = true;
      armTimer(IDLE_PROBE, 0);
    }
  }
  function fire(id) {
    if (id === IDLE_PROBE) {
      probeArmed = false;
      if (timers.size === 0) {
        const w = idleWaiters;
        idleWaiters = [];
        for (let i = 0; i < w.length; i++) w[i]();
      }
      return;
    }
    const t = timers.get(id);
    if (!t) return;
    if (t.repeat) armTimer(id, t.ms);
    else timers.delete(id);
    try {
      $Reflect_apply(t.fn, globalThis, t.args);
    } catch (e) {
      reportUncaught(e);
    }
    checkIdle();
  }
  function idle() {
    return new $Promise((resolve) => {
      idleWaiters[idleWaiters.length] = resolve;
      checkIdle();
    });
  }
  /** A session's next run starts with no timers: the last run's never fire (the host dropped them). */
  function reset() {
    timers.clear();
    idleWaiters = [];
    probeArmed = false;
  }
  return {
    fire,
    idle,
    reset,
    setTimeout: (fn, ms, ...args) => add(fn, ms, args, false),
    setInterval: (fn, ms, ...args) => add(fn, ms, args, true),
    clearTimeout: clear,
    clearInterval: clear,
    queueMicrotask: (fn) => {
      if (typeof fn !== "function") throw new $TypeError('The "callback" argument must be of type function');
      $then($Promise_resolve(), () => {
        try {
          fn();
        } catch (e) {
          reportUncaught(e);
        }
      });
    },
  };
}
