// The web globals every guest kind gets: console, the encoders, crypto, performance and the timers,
// set up once here for JavaScript and Python alike (javascript.js adds the ones only it has).

/**
 * Define them on globalThis. `uncaught` rejects with the first error a timer or microtask callback
 * throws; the runner races the job against it.
 */
function installWebGlobals(bridge) {
  let failUncaught;
  const uncaught = new $Promise((_, reject) => {
    failUncaught = reject;
  });
  uncaught.catch(() => {});
  let reported = false;
  const reportUncaught = (e) => {
    if (!reported) {
      reported = true;
      failUncaught(e);
    }
  };

  const timers = makeTimers(bridge.armTimer, bridge.cancelTimer, reportUncaught);
  const started = $Date_now();
  defineGlobal("console", makeConsole(bridge.write));
  defineGlobal("TextEncoder", TextEncoder);
  defineGlobal("TextDecoder", TextDecoder);
  defineGlobal("DOMException", DOMException);
  defineGlobal("crypto", makeCrypto(bridge.randomBytes));
  defineGlobal("performance", $Object_freeze({ now: () => $Date_now() - started, timeOrigin: started }));
  for (const name of ["setTimeout", "setInterval", "clearTimeout", "clearInterval", "queueMicrotask"]) defineGlobal(name, timers[name]);
  return { timers, uncaught };
}
