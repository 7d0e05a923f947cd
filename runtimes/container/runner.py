# The isobox in-container runner: PID 1 of every container the container backend starts. It waits for
# jobs as JSON lines on stdin and answers each one with JSON lines (frames) on its original stdout,
# with the same semantics as the isolate's Python runner (runtimes/python/runner.py): the value of
# the last expression, the job's own traceback, `print` streamed per line, sys.exit(0) is ok.
#
# Trust: the job runs in this very process and can forge frames (channel.py keeps the protocol
# descriptors). That is accepted by design: the host parses every frame with a schema and caps its
# sizes, so a forger can only ever fool its own job's result. The container is the boundary.
import ast
import base64
import importlib.util
import inspect
import json
import os
import resource
import secrets
import sys
import threading
import types

OPT = "/opt/isobox"
HOME = "/home/user"
OUTPUT = HOME + "/output"
FILE_CHUNK = 1 << 20
MAX_DEPTH = 16

def load_shared(name, namespace):
    """A module of the isolate's Python (runtimes/python/, copied into the image), run in a namespace
    that gives it what the isolate's runner would: the same code serves both backends."""
    path = f"{OPT}/{name}"
    with open(path, encoding="utf-8") as f:
        exec(compile(f.read(), path, "exec"), namespace)
    return namespace


def load_channel():
    spec = importlib.util.spec_from_file_location("_isobox_channel", f"{OPT}/channel.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["_isobox_channel"] = module
    spec.loader.exec_module(module)
    return module


channel = load_channel()  # before main() redirects fd 1: it keeps the original stdout for frames
send = channel.send
# The result envelope's value and error, as the isolate's runner makes them (runtimes/python/results.py).
_results = load_shared("results.py", {"_json": json})
FILENAME, safe_str, describe, value_outcome = (_results[n] for n in ("_FILENAME", "_safe_str", "_job_error", "_value_outcome"))


def load_capabilities(inbox):
    """The isobox module, from the same source the isolate's Python uses, over this transport.
    Returns its per-job hook (which capabilities this job has)."""
    calls = types.ModuleType("_isobox_calls")
    calls.call = inbox.call
    sys.modules["_isobox_calls"] = calls
    namespace = load_shared("capabilities.py", {"__name__": "_isobox_capabilities", "_json": json, "_sys": sys, "_SESSION": {"keep": False}})
    return namespace["__isobox_begin"]


class Capture:
    """fd 1 or 2 redirected into a pipe read by a thread, so output from the job, from C code and
    from child processes alike is framed per line instead of corrupting the protocol stream."""

    def __init__(self, fd):
        self.fd = fd
        self.marker = None
        self.seen = threading.Event()
        read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        self.read_end = read_end
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        partial = b""
        while True:
            chunk = os.read(self.read_end, 65536)
            if not chunk:
                return
            parts = (partial + chunk).split(b"\n")
            partial = parts.pop()
            lines = []
            for line in parts:
                if self.marker is not None and line.endswith(self.marker):
                    # what precedes the marker is the job's unterminated last line
                    if lines:
                        self._send(lines, False)
                        lines = []
                    if len(line) > len(self.marker):
                        self._send([line[: -len(self.marker)]], True)
                    self.seen.set()
                    continue
                lines.append(line)
            if lines:
                self._send(lines, False)

    def _send(self, lines, unterminated):
        frame = {"t": "out", "fd": self.fd, "lines": [l.decode("utf-8", "replace") for l in lines]}
        if unterminated:
            frame["open"] = True  # the last line had no newline
        send(frame)

    def drain(self):
        """Wait until everything written to the fd so far has been framed (a per-job marker line)."""
        self.marker = b"\x00isobox-" + secrets.token_hex(16).encode()
        self.seen.clear()
        os.write(self.fd, self.marker + b"\n")
        self.seen.wait(2.0)


def failure(exc, scope):
    if isinstance(exc, MemoryError):
        scope.clear()
        return {"kind": "memory"}
    if isinstance(exc, SystemExit):
        if exc.code in (None, 0):
            return {"kind": "ok"}
        return {"kind": "error", "error": {"name": "SystemExit", "message": f"exit code {exc.code}"}}
    return {"kind": "error", "error": describe(exc)}


def evaluate(code, scope):
    """Pyodide's eval_code semantics: run the module, return the last expression's value unless the
    source ends with a semicolon; top-level await runs the module as a coroutine."""
    import linecache
    linecache.cache[FILENAME] = (len(code), None, code.splitlines(True), FILENAME)  # traceback source lines
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    tree = compile(code, FILENAME, "exec", flags=ast.PyCF_ONLY_AST | flags, dont_inherit=True)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not code.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, FILENAME, "exec", flags=flags, dont_inherit=True)
    tail = compile(last, FILENAME, "eval", flags=flags, dont_inherit=True) if last else None
    if (body.co_flags | (tail.co_flags if tail else 0)) & inspect.CO_COROUTINE:
        import asyncio

        async def both():
            r = eval(body, scope)
            if inspect.iscoroutine(r):
                await r
            if tail is None:
                return None
            v = eval(tail, scope)
            return await v if inspect.iscoroutine(v) else v

        return asyncio.run(both())
    exec(body, scope)
    return eval(tail, scope) if tail else None


def safe_join(rel):
    """Job file paths were normalised by the host; refuse anything else anyway (threat: a path that
    escapes /home/user)."""
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid file path {rel!r}")
    return os.path.join(HOME, *parts)


def write_files(files):
    for entry in files:
        rel, b64 = entry["path"], entry["base64"]
        path = safe_join(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64decode(b64))


def empty_output():
    import shutil
    if os.path.islink(OUTPUT) or (os.path.exists(OUTPUT) and not os.path.isdir(OUTPUT)):
        os.unlink(OUTPUT)
    elif os.path.isdir(OUTPUT):
        shutil.rmtree(OUTPUT)  # unlinks symlinks, never follows them
    os.makedirs(OUTPUT, exist_ok=True)


def save_figures():
    """matplotlib figures left open become output/chart-N.png."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    n = 0
    for num in plt.get_fignums():
        n += 1
        while os.path.lexists(f"{OUTPUT}/chart-{n}.png"):
            n += 1
        plt.figure(num).savefig(f"{OUTPUT}/chart-{n}.png")
    plt.close("all")


def harvest(max_files, max_bytes):
    """Send the files under output/ (regular files only: a symlink is never followed, so one
    pointing at /etc/passwd returns nothing). Returns an error message when a cap is hit."""
    count, total = 0, 0
    stack = [(OUTPUT, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if depth < MAX_DEPTH:
                    stack.append((entry.path, depth + 1))
                continue
            if not entry.is_file(follow_symlinks=False):
                continue  # fifos, sockets, devices
            size = entry.stat(follow_symlinks=False).st_size
            count += 1
            total += size
            if count > max_files:
                return f"more than {max_files} output files"
            if total > max_bytes:
                return f"output files larger than {max_bytes} bytes in total"
            send_file(entry.path, size)
    return None


def send_file(path, size):
    rel = os.path.relpath(path, HOME)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return
    with os.fdopen(fd, "rb") as f:
        sent = 0
        while True:
            chunk = f.read(min(FILE_CHUNK, size - sent + 1))
            sent += len(chunk)
            last = not chunk or sent >= size
            send({"t": "file", "path": rel, "data": base64.b64encode(chunk).decode(), "end": last})
            if last:
                return


def cpu_seconds():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def run_job(job, scope, captures, inbox, begin):
    """One run from its run spec (GuestRunSpec, src/contract/run-spec.ts: the same fields the
    isolate's runners read), sent as one JSON line with each file's bytes in base64."""
    begin(job["capabilitiesJson"], bool(job["session"]))
    empty_output()
    write_files(job["files"])
    os.environ.clear()  # only the job's environment is visible (threat: the image's variables)
    os.environ.update(json.loads(job["envJson"]))
    scope["input"] = json.loads(job["inputJson"]) if "inputJson" in job else None
    started = cpu_seconds()
    # A CPU budget for this job (soft limit: SIGXCPU ends the container; the host reports timeout).
    budget = int(started) + max(1, -(-job["cpuTimeMs"] // 1000)) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (budget, resource.RLIM_INFINITY))
    os.chdir(HOME)
    try:
        outcome = value_outcome(evaluate(job["code"], scope), job["maxValueBytes"])
        if "json" in outcome:
            outcome = {"kind": "ok", "value": json.loads(outcome["json"])}
    except BaseException as exc:  # noqa: BLE001 - every guest failure becomes a status
        outcome = failure(exc, scope)
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the job may have closed or replaced them
            pass
    if outcome["kind"] != "memory":
        try:
            save_figures()
        except Exception as exc:  # noqa: BLE001
            print(f"isobox: could not save an open matplotlib figure: {safe_str(exc)}", file=sys.__stderr__, flush=True)
    for c in captures:
        c.drain()
    limit = harvest(job["maxFiles"], job["maxFsBytes"])
    if limit and outcome["kind"] in ("ok", "error"):
        outcome = {"kind": "output_limit", "message": limit}
    outcome["cpuMs"] = round((cpu_seconds() - started) * 1000, 3)
    outcome["maxRssBytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    send({"t": "result", **outcome})
    inbox.end_run()


def preload():
    """Copy the font cache built into the image to the writable MPLCONFIGDIR, then import what most escalated jobs use before the job arrives, so a warm container does not make
    the job pay for it (imports are cached in sys.modules; the job's globals stay empty)."""
    mpl_dir = os.environ.get("MPLCONFIGDIR")
    if mpl_dir and os.path.isdir("/opt/isobox/mpl"):
        import shutil
        shutil.copytree("/opt/isobox/mpl", mpl_dir, dirs_exist_ok=True)
    for name in filter(None, os.environ.get("ISOBOX_PRELOAD", "").split(",")):
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - a missing optional module only costs the job the import
            pass
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        mpl.use("Agg")
        mpl.get_cachedir()  # resolved from MPLCONFIGDIR now, before the job's env replaces ours


def main():
    captures = [Capture(1), Capture(2)]
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.__stdout__, sys.__stderr__ = sys.stdout, sys.stderr
    inbox = channel.Inbox()
    sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
    sys.__stdin__ = sys.stdin
    preload()
    begin = load_capabilities(inbox)
    scope = {"__name__": "__main__", "__builtins__": __builtins__}
    send({"t": "ready"})
    while True:
        job = inbox.next_job()
        if not job.get("session"):
            scope = {"__name__": "__main__", "__builtins__": __builtins__}
        run_job(job, scope, captures, inbox, begin)
        if not job.get("session"):
            os._exit(0)


if __name__ == "__main__":
    main()
