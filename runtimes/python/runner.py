# The isobox Python runner: runs one job's code in this fresh interpreter and answers with one JSON
# envelope. Defined once at boot, then removed from the guest's globals before any job code runs.
import json as _json
import os as _os
import random as _random
import sys as _sys
from pyodide.code import eval_code as _eval_code, eval_code_async as _eval_code_async



class _OfflineWheels:
    """Import hook: the first import of a name one of the offline wheels provides unpacks that wheel
    (and the wheels it depends on) into site-packages, then lets the normal finders load it."""

    def __init__(self):
        import _isobox_wheels
        self._host = _isobox_wheels
        self._index = _json.loads(_isobox_wheels.index)
        self._installed = set()

    def find_spec(self, fullname, path=None, target=None):
        files = self._index.get(fullname.partition(".")[0])
        if not files or all(f in self._installed for f in files):
            return None
        import importlib, io, site, zipfile
        dest = site.getsitepackages()[0]
        for f in files:
            if f not in self._installed:
                zipfile.ZipFile(io.BytesIO(self._host.fetch(f).to_bytes())).extractall(dest)
                self._installed.add(f)
        importlib.invalidate_caches()
        return None


_sys.meta_path.insert(0, _OfflineWheels())


_CONTAINER_HINT = (
    "it is not available in the isolate (pure-Python only); jobs that need it run on the container "
    "backend: createSandbox({ container: { enabled: true } })"
)


# Answered without allocating: when memory ran out, formatting a traceback could fail again.
_MEMORY_ENVELOPE = _json.dumps({"kind": "memory"})


def _describe(exc):
    """The job's error (runtimes/python/results.py), naming the container backend for a missing module."""
    if isinstance(exc, ModuleNotFoundError) and exc.name and not _safe_str(exc).endswith(_CONTAINER_HINT):
        exc.msg = f"No module named '{exc.name}': {_CONTAINER_HINT}"
    return _job_error(exc)


def _flush():
    # The job may have replaced or closed sys.stdout; flush the interpreter's own streams.
    for stream in (_sys.__stdout__, _sys.__stderr__):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass


def _keyed_hash(key):
    """builtins.hash for this interpreter: the hashes that depend on CPython's hash secret (str,
    bytes, memoryview, datetime; tuples and frozensets of them) passed through a permutation keyed
    per interpreter. Every interpreter is restored from one memory snapshot, so that secret is the
    snapshot's, in every job; it cannot be re-keyed after restore (every str already hashed, and
    every dict and set holding one, would disagree with strings hashed later). Equal objects still
    hash equal (the permutation only sees the original hash); numbers keep their documented hashes
    (hash(1) == hash(1.0) == 1). Dicts and sets still use the snapshot's secret internally."""
    import builtins
    snapshot_hash = builtins.hash
    width = _sys.hash_info.width
    mask, top = (1 << width) - 1, 1 << (width - 1)
    k0, k1, k2 = (int.from_bytes(key[i:i + 8], "little") & mask for i in (0, 8, 16))
    k1 |= 1  # odd: multiplication stays a bijection
    keyed_types = (str, bytes, memoryview, tuple, frozenset)

    def hash(obj, /):
        """Return the hash value for the given object (keyed per sandboxed interpreter)."""
        h = snapshot_hash(obj)
        owner = getattr(type(obj).__hash__, "__objclass__", None)
        if owner not in keyed_types and getattr(owner, "__module__", None) != "datetime":
            return h
        x = ((h ^ k0) * k1) & mask
        x ^= x >> (width // 2)
        x = ((x + k2) * 0x45D9F3B) & mask
        x ^= x >> (width // 2)
        x = x - (1 << width) if x >= top else x
        return -2 if x == -1 else x

    hash.__module__, hash.__qualname__ = "builtins", "hash"
    return hash


def _reseed():
    """Every interpreter is restored from the same memory snapshot: whatever drew randomness while
    it was taken would repeat in every job. Re-keyed here from the host's CSPRNG (os.urandom), before
    any job code runs: `random`'s generator (SystemRandom, secrets, uuid4 and os.urandom read the
    host each call; tempfile's name sequence and expat's hash salt are made fresh per interpreter)."""
    import builtins
    _random.seed()
    builtins.hash = _keyed_hash(_os.urandom(24))
    tempfile = _sys.modules.get("tempfile")
    if tempfile is not None:
        tempfile._name_sequence = None  # made again, from the re-seeded generator, on first use


# Whether this interpreter is a session's (set before each run by capabilities.py's __isobox_begin),
# and the scope its runs share.
_SESSION = {"keep": False, "scope": None}


def _scope(input_json, env_json):
    # Only the job's environment is visible (threat: Emscripten's defaults or a host's variables).
    _os.environ.clear()
    _os.environ.update(_json.loads(env_json))
    value = None if input_json is None else _json.loads(input_json)
    # A session keeps its variables from run to run (the interpreter itself is the session's), and
    # with them its random state and hash key: only its first run re-seeds.
    if _SESSION["keep"] and _SESSION["scope"] is not None:
        _SESSION["scope"]["input"] = value
        return _SESSION["scope"]
    _reseed()
    scope = {"__name__": "__main__", "__builtins__": __builtins__, "input": value}
    if _SESSION["keep"]:
        _SESSION["scope"] = scope
    return scope


def _failure(exc, scope):
    if isinstance(exc, MemoryError):
        scope.clear()  # let the job's objects go before anything else is allocated
        return _MEMORY_ENVELOPE
    if isinstance(exc, SystemExit):
        if exc.code in (None, 0):
            return _json.dumps({"kind": "ok"})
        return _json.dumps({"kind": "error", "error": {"name": "SystemExit", "message": f"exit code {exc.code}"}})
    try:
        return _json.dumps({"kind": "error", "error": _describe(exc)})
    except MemoryError:
        scope.clear()
        return _MEMORY_ENVELOPE


def _success(value, max_value_bytes):
    return _json.dumps(_value_outcome(value, max_value_bytes))  # runtimes/python/results.py


def _needs_event_loop(code):
    """True for code with top-level await: it must run as a coroutine on the event loop."""
    import ast, inspect
    try:
        compiled = compile(code, _FILENAME, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except SyntaxError:
        return False  # reported by the synchronous path, with the job's own line
    return bool(compiled.co_flags & inspect.CO_COROUTINE)


def __isobox_run_sync(code, input_json, env_json, job_id, max_value_bytes):
    """The job run to completion now, or None when it needs the event loop (top-level await):
    most jobs skip the loop's host-timer round trips."""
    if _needs_event_loop(code):
        return None
    scope = _scope(input_json, env_json)
    try:
        value = _eval_code(code, scope, filename=_FILENAME)
    except BaseException as exc:  # noqa: BLE001 - every guest failure becomes a status
        return _failure(exc, scope)
    finally:
        _flush()
    return _success(value, max_value_bytes)


async def __isobox_run(code, input_json, env_json, job_id, max_value_bytes):
    scope = _scope(input_json, env_json)
    try:
        value = await _eval_code_async(code, scope, filename=_FILENAME)
    except BaseException as exc:  # noqa: BLE001 - every guest failure becomes a status
        return _failure(exc, scope)
    finally:
        _flush()
    return _success(value, max_value_bytes)
