// Timers live in the guest; the host only keeps one Node timer per guest timer and calls `fire(id)`
// back when it expires. Everything dies with the isolate at the job's deadline, so no guest timer can
// outlive its job (threat: timer floods and intervals keeping work alive after the job).
const MAX_TIMERS = 10000;
const IDLE_PROBE = 0;

function makeTimers(armTimer, cancelTimer, reportUncaught) {
  const timers = new $Map();
  const probe = makeIdleProbe(armTimer, timers);
  let nextId = 1;

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
      probe.check();
    }
  }
  function fire(id) {
    if (id === IDLE_PROBE) {
      probe.fired();
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
    probe.check();
  }
  /** A session's next run starts with no timers: the last run's never fire (the host dropped them). */
  function reset() {
    timers.clear();
    probe.reset();
  }
  return {
    fire,
    idle: probe.idle,
    reset,
    setTimeout: (fn, ms, ...args) => add(fn, ms, args, false),
    setInterval: (fn, ms, ...args) => add(fn, ms, args, true),
    clearTimeout: clear,
    clearInterval: clear,
    queueMicrotask: makeQueueMicrotask(reportUncaught),
  };
}

// Idle is confirmed from a fresh host turn, after every microtask of the last callback has run,
// so work chained through promises (await in a timer callback) is not cut short.
function makeIdleProbe(armTimer, timers) {
  let idleWaiters = [];
  let probeArmed = false;
  function check() {
    if (timers.size === 0 && idleWaiters.length && !probeArmed) {
      probeArmed = true;
      armTimer(IDLE_PROBE, 0);
    }
  }
  function fired() {
    probeArmed = false;
    if (timers.size === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      for (let i = 0; i < w.length; i++) w[i]();
    }
  }
  function idle() {
    return new $Promise((resolve) => {
      idleWaiters[idleWaiters.length] = resolve;
      check();
    });
  }
  function reset() {
    idleWaiters = [];
    probeArmed = false;
  }
  return { check, fired, idle, reset };
}

/** queueMicrotask on the guest's own queue; a callback that throws is reported like a timer's. */
function makeQueueMicrotask(reportUncaught) {
  const queueMicrotask = (fn) => {
    if (typeof fn !== "function") throw new $TypeError('The "callback" argument must be of type function');
    $then($Promise_resolve(), () => {
      try {
        fn();
      } catch (e) {
        reportUncaught(e);
      }
    });
  };
  return queueMicrotask;
}
