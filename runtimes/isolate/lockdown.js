// Install the web globals and take away what can escape the isolate's caps.

// Threat: a resizable ArrayBuffer reserves its maxByteLength outside isolated-vm's allocator, so
// resize() grows memory the cap never sees. Both ways to reach the constructor refuse the option.
function lockResizableBuffers() {
  const NativeArrayBuffer = ArrayBuffer;
  const SafeArrayBuffer = new Proxy(NativeArrayBuffer, {
    construct(target, args, newTarget) {
      const options = args[1];
      if (options !== null && typeof options === "object" && options.maxByteLength !== undefined) {
        throw new $RangeError("Resizable ArrayBuffers are not available in the sandbox");
      }
      return $Reflect_construct(target, [args[0]], newTarget === SafeArrayBuffer ? target : newTarget);
    },
  });
  $Object_defineProperty(NativeArrayBuffer.prototype, "constructor", { value: SafeArrayBuffer, writable: false, configurable: false, enumerable: false });
  $Object_defineProperty(globalThis, "ArrayBuffer", { value: SafeArrayBuffer, writable: true, configurable: true, enumerable: false });
}
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
  lockResizableBuffers();
  if (typeof Atomics === "object") {
    const unavailable = (name) => function () { throw new $TypeError("Atomics." + name + " is not available in the sandbox"); };
    $Object_defineProperty(Atomics, "wait", { value: unavailable("wait"), configurable: false, writable: false });
    $Object_defineProperty(Atomics, "waitAsync", { value: unavailable("waitAsync"), configurable: false, writable: false });
  }
  return { timers, uncaught };
}

const installed = installGlobals(bridge);
const calls = makeAsyncCalls(bridge.call);
const runner = makeRunner(bridge.entryName, installed.timers, installed.uncaught, calls);
return record({ start: runner.start, poll: runner.poll, wait: runner.wait, fire: installed.timers.fire, settle: calls.settle });
