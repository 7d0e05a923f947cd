// JavaScript guests: the shared web globals and the ones only this kind has, the lockdown before any
// guest code, and the runner the host drives.

function installJavascriptGlobals(bridge) {
  const installed = installWebGlobals(bridge);
  defineGlobal("atob", atob);
  defineGlobal("btoa", btoa);
  defineGlobal("URL", makeURL(bridge.urlOp));
  defineGlobal("URLSearchParams", URLSearchParams);
  defineGlobal("structuredClone", structuredClone);
  return installed;
}

const installed = installJavascriptGlobals(bridge);
lockdown();
const calls = makeAsyncCalls(bridge.call);
const runner = makeRunner(bridge.entryName, installed.timers, installed.uncaught, calls);
return record({ start: runner.start, poll: runner.poll, wait: runner.wait, fire: installed.timers.fire, settle: calls.settle });
