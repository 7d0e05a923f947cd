# What a job's result envelope carries, its value or its error, defined once for both backends.
# The isolate's interpreter runs this in the runner's namespace (python-guest.ts joins it with
# runner.py and capabilities.py); the container's runner loads it from the image. Either way the
# namespace provides `_json`.
import traceback as _traceback

_FILENAME = "main.py"  # the job's code, as its tracebacks name it
_MAX_TEXT = 64 * 1024


def _safe_str(exc):
    """str() of a guest exception, whose __str__ may raise (threat: a report that crashes the runner)."""
    try:
        return str(exc)[:_MAX_TEXT]
    except Exception:  # noqa: BLE001 - not BaseException: the deadline's KeyboardInterrupt must pass
        return f"<unprintable {type(exc).__name__} object>"


def _job_error(exc):
    """name, message and a traceback holding only the job's own frames (no runner or Pyodide ones)."""
    name = type(exc).__name__
    message = _safe_str(exc)
    try:
        frames = [f for f in _traceback.extract_tb(exc.__traceback__) if f.filename == _FILENAME]
        lines = ["Traceback (most recent call last):\n"] if frames else []
        lines += _traceback.format_list(frames)
        lines.append(f"{name}: {message}\n" if message else f"{name}\n")
        stack = "".join(lines)[:_MAX_TEXT]
    except Exception:  # noqa: BLE001 - a broken traceback still leaves name and message
        stack = f"{name}: {message}"
    return {"name": name, "message": message, "stack": stack}


def _too_deep(value, limit=500):
    """True for containers nested deeper than `limit` (checked without recursion: the C encoder
    would overflow the WebAssembly stack before raising RecursionError)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, tuple, dict)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, (list, tuple, dict)))
    return False


_EXACT = 2**53


def _inexact_int(value):
    """The first int JSON would not carry exactly (past 2**53, where a JavaScript reader rounds),
    found without recursion; None when there is none (bools are ints but always exact)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool):
            if abs(item) > _EXACT:
                return item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return None


def _not_exact(number):
    """The host's own words for it (src/contract/outcomes.ts valueNotExact)."""
    try:
        token = str(number)
        shown = token if len(token) <= 40 else token[:37] + "..."
    except ValueError:  # more digits than Python turns into text
        shown = f"an integer of about {int(number.bit_length() * 0.30103) + 1} digits"
    message = f"The returned value holds {shown}, a number JSON cannot carry exactly (return it as a string)"
    return {"kind": "error", "error": {"name": "InvalidValue", "message": message}}


def _value_outcome(value, max_value_bytes):
    """{"kind": "ok"} when there is no JSON value (None, not JSON-able, nested too deep),
    {"kind": "too_big", "size": n} over max_value_bytes, else {"kind": "ok", "json": text}."""
    if value is None or _too_deep(value):
        return {"kind": "ok"}
    inexact = _inexact_int(value)
    if inexact is not None:
        return _not_exact(inexact)
    try:
        text = _json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return {"kind": "ok"}  # the last expression is not JSON-able: no value
    if len(text) > max_value_bytes:
        return {"kind": "too_big", "size": len(text)}
    return {"kind": "ok", "json": text}
