# The value of a job's last expression, as a result envelope carries it: one definition for both
# backends. The isolate's interpreter runs it in the runner's namespace (python-guest.ts joins it
# with runner.py and capabilities.py); the container's runner loads it from the image. Either way
# the namespace provides `_json`.


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


def _value_outcome(value, max_value_bytes):
    """{"kind": "ok"} when there is no JSON value (None, not JSON-able, nested too deep),
    {"kind": "too_big", "size": n} over max_value_bytes, else {"kind": "ok", "json": text}."""
    if value is None or _too_deep(value):
        return {"kind": "ok"}
    try:
        text = _json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return {"kind": "ok"}  # the last expression is not JSON-able: no value
    if len(text) > max_value_bytes:
        return {"kind": "too_big", "size": len(text)}
    return {"kind": "ok", "json": text}
