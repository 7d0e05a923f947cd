# `from isobox import host, fetch`: the job's capabilities, as the Python guest sees them. Run at
# boot right after runner.py, in the same namespace (python-guest.ts joins the sources), so it
# uses the runner's `_json`, `_sys` and `_SESSION`; nothing here is a job's global. The container's
# runner loads this same file with those three names provided.
# A call leaves the interpreter as (kind, name, JSON arguments) and blocks until the host answers:
# handlers, credentials and sockets stay on the host, which validates the arguments first.
import types as _types


class BindingError(Exception):
    """A host capability refused or failed the call (the message is the host's, without its stack)."""


class ValidationError(BindingError, ValueError):
    """The arguments did not match the binding's schema."""


class BindingTimeout(BindingError, TimeoutError):
    """The host did not answer within the call's timeout."""


class FetchError(BindingError):
    """The host refused or could not complete a fetch (allow-list, address guard, size, timeout)."""


_ERRORS = {"ValidationError": ValidationError, "TimeoutError": BindingTimeout, "FetchError": FetchError}
_CAPS = {"bindings": (), "mcp": {}, "fetch": False}


def _call(kind, name, args):
    import _isobox_calls
    try:
        payload = _json.dumps(args, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"arguments must be JSON-serializable: {exc}") from None
    answer = _json.loads(_isobox_calls.call(kind, name, payload))
    if answer.get("ok"):
        return _json.loads(answer["json"]) if "json" in answer else None
    raise _ERRORS.get(answer.get("name"), BindingError)(answer.get("message", "the call failed"))


def _arguments(args, kwargs):
    if args and (len(args) > 1 or kwargs):
        raise TypeError("pass arguments by keyword (host.name(a=1)) or as one value (a dict, or what a non-object schema takes)")
    if args:
        return dict(args[0]) if isinstance(args[0], dict) else args[0]
    return kwargs


def _callable(kind, name, label):
    def call(*args, **kwargs):
        return _call(kind, name, _arguments(args, kwargs))
    call.__name__ = call.__qualname__ = label if label.isidentifier() else "tool"
    return call


class _Server:
    """An MCP server's tools: `host.server.tool(...)`, or `host.server["odd.name"](...)`."""
    __slots__ = ("_name",)

    def __init__(self, name):
        object.__setattr__(self, "_name", name)

    def __getitem__(self, tool):
        if tool not in _CAPS["mcp"].get(self._name, ()):
            raise KeyError(f"MCP server {self._name!r} has no tool {tool!r}")
        return _callable("mcp", self._name + "\0" + tool, tool)

    def __getattr__(self, tool):
        try:
            return self[tool]
        except KeyError as exc:
            raise AttributeError(exc.args[0]) from None

    def __dir__(self):
        return sorted(_CAPS["mcp"].get(self._name, ()))


class _Host:
    """`host.name(**args)` for each binding, `host.server.tool(**args)` for each MCP tool."""
    __slots__ = ()

    def __getattr__(self, name):
        if name in _CAPS["bindings"]:
            return _callable("binding", name, name)
        if name in _CAPS["mcp"]:
            return _Server(name)
        raise AttributeError(f"no binding or MCP server named {name!r} was given to this job")

    __getitem__ = __getattr__

    def __dir__(self):
        return sorted([*_CAPS["bindings"], *_CAPS["mcp"]])


class FetchResponse:
    def __init__(self, r):
        import base64
        self.status = int(r.get("status", 0))
        self.status_text = str(r.get("statusText", ""))
        self.ok = 200 <= self.status < 300
        self.url = str(r.get("url", ""))
        self.headers = {str(k).lower(): str(v) for k, v in dict(r.get("headers") or {}).items()}
        self.body = base64.b64decode(r.get("bodyBase64") or "")

    def text(self, encoding="utf-8"):
        return self.body.decode(encoding, errors="replace")

    def json(self):
        return _json.loads(self.body)

    def __repr__(self):
        return f"<FetchResponse {self.status} {self.url}>"


def fetch(url, method="GET", headers=None, body=None):
    """An HTTP request through the host's allow-listed fetch capability."""
    if not _CAPS["fetch"]:
        raise BindingError("fetch is not enabled for this sandbox: createSandbox({ fetch: { allow: [...] } })")
    request = {"url": str(url), "method": str(method).upper(), "headers": {str(k): str(v) for k, v in dict(headers or {}).items()}}
    if isinstance(body, str):
        request["body"] = body
    elif isinstance(body, (bytes, bytearray, memoryview)):
        import base64
        request["bodyBase64"] = base64.b64encode(bytes(body)).decode("ascii")
    elif body is not None:
        raise TypeError("fetch body must be str or bytes")
    return FetchResponse(_call("fetch", "fetch", request))


_isobox = _types.ModuleType("isobox", "isobox: the host capabilities this job was given.")
_isobox.host = _Host()
_isobox.fetch = fetch
_isobox.FetchResponse = FetchResponse
_isobox.BindingError = BindingError
_isobox.ValidationError = ValidationError
_isobox.BindingTimeout = BindingTimeout
_isobox.FetchError = FetchError
_sys.modules["isobox"] = _isobox


def __isobox_begin(caps_json, keep_scope):
    """Before each run: the capabilities of this job (names only; the handlers stay on the host),
    and whether its variables outlive it (a session's)."""
    _SESSION["keep"] = bool(keep_scope)
    caps = _json.loads(caps_json)
    _CAPS["bindings"] = frozenset(caps.get("bindings", ()))
    _CAPS["mcp"] = {str(k): frozenset(v) for k, v in dict(caps.get("mcp", {})).items()}
    _CAPS["fetch"] = bool(caps.get("fetch"))
