// Host capabilities (bindings, MCP tools, fetch) as the guest sees them. A call leaves the isolate as
// (kind, name, JSON of its arguments) through one door; the handlers, credentials and sockets stay on
// the host, which validates the arguments and answers with JSON or an error message (never a stack).
const MAX_ARGS_JSON = 8 * 1024 * 1024;

function argsJsonOf(args) {
  let json;
  try {
    json = $JSON_stringify(args === undefined ? null : args);
  } catch (e) {
    throw new $TypeError("Binding arguments must be JSON-serializable: " + safeString(e && e.message));
  }
  if (json === undefined) throw new $TypeError("Binding arguments must be JSON-serializable");
  if (json.length > MAX_ARGS_JSON) throw new $RangeError("Binding arguments are larger than " + MAX_ARGS_JSON + " bytes of JSON");
  return json;
}

function callError(name, message) {
  const e = new $Error(message);
  e.name = name;
  return e;
}

/** JavaScript guests: every call returns a promise, settled when the host's answer comes back. */
function makeAsyncCalls(callDoor) {
  const pending = new $Map();
  let nextId = 1;
  function call(kind, name, args) {
    return new $Promise((resolve, reject) => {
      const id = nextId++;
      const json = argsJsonOf(args);
      pending.set(id, { resolve, reject });
      try {
        callDoor(kind, name, json, id);
      } catch (e) {
        pending.delete(id);
        throw e;
      }
    });
  }
  function settle(id, ok, payload, errorName) {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (!ok) return p.reject(callError($String(errorName), $String(payload)));
    let value;
    try {
      value = payload === undefined ? undefined : $JSON_parse(payload);
    } catch (e) {
      return p.reject(e);
    }
    p.resolve(value);
  }
  // A session guest's next run: the calls the last run left waiting will never be answered (the
  // host dropped them with that run), so they fail now rather than hang whoever awaits them.
  function abandon() {
    pending.forEach((p) => p.reject(callError("AbortError", "The run that made this call has ended")));
    pending.clear();
  }
  return { call, settle, abandon };
}

/** The `isobox:host` namespace: a function per binding, an object of tool functions per MCP server. */
function makeHostNamespace(capabilities, call) {
  const ns = $Object_create(null);
  const bindings = capabilities.bindings;
  for (let i = 0; i < bindings.length; i++) {
    const name = bindings[i];
    ns[name] = $Object_freeze({ [name]: (args) => call("binding", name, args) }[name]);
  }
  const servers = $Object_keys(capabilities.mcp);
  for (let i = 0; i < servers.length; i++) {
    const server = servers[i];
    const tools = $Object_create(null);
    const names = capabilities.mcp[server];
    for (let j = 0; j < names.length; j++) {
      const tool = names[j];
      // Threat: tool names like "__proto__" or "constructor": defined as own data properties of a
      // null-prototype object, they can never reach or replace a prototype.
      $Object_defineProperty(tools, tool, { value: (args) => call("mcp", server + "\u0000" + tool, args), enumerable: true });
    }
    ns[server] = $Object_freeze(tools);
  }
  return $Object_freeze(ns);
}
