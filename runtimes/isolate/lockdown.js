// Install the web globals and take away what can escape the isolate's caps.
function installGlobals(bridge) {
  let failUncaught;
  const uncaught = new $Promise((_, reject) => { failUncaught = reject; });
  uncaught.catch(() => {});
  let reported = false;
  const reportUncaught = (e) => { if (!reported) { reported = true; failUncaught(e); } };

  const timers = makeTimers(bridge.armTimer, bridge.cancelTimer, reportUncaught);
  const started = $Date_now();
  defineGlobal("console", makeConsole(bridge.write));
  defineGlobal("TextEncoder", TextEncoder);
  defineGlobal("TextDecoder", TextDecoder);
  defineGlobal("DOMException", DOMException);
  defineGlobal("atob", atob);
  defineGlobal("btoa", btoa);
  defineGlobal("URL", makeURL(bridge.urlOp));
  defineGlobal("URLSearchParams", URLSearchParams);
  defineGlobal("structuredClone", structuredClone);
  defineGlobal("crypto", makeCrypto(bridge.randomBytes));
  defineGlobal("performance", $Object_freeze({ now: () => $Date_now() - started, timeOrigin: started }));
  for (const name of ["setTimeout", "setInterval", "clearTimeout", "clearInterval", "queueMicrotask"]) defineGlobal(name, timers[name]);

  // Threat: WebAssembly.Memory and SharedArrayBuffer allocate outside isolated-vm's memoryLimit,
  // and Atomics.wait blocks the isolate's thread where termination cannot reach it.
  delete globalThis.WebAssembly;
  delete globalThis.SharedArrayBuffer;
  if (typeof Atomics === "object") {
    const unavailable = (name) => function () { throw new $TypeError("Atomics." + name + " is not available in the sandbox"); };
    $Object_defineProperty(Atomics, "wait", { value: unavailable("wait"), configurable: false, writable: false });
    $Object_defineProperty(Atomics, "waitAsync", { value: unavailable("waitAsync"), configurable: false, writable: false });
  }
  return { timers, uncaught };
}

const installed = installGlobals(bridge);
const runner = makeRunner(bridge.entryName, installed.timers, installed.uncaught);
return record({ start: runner.start, poll: runner.poll, wait: runner.wait, fire: installed.timers.fire });
