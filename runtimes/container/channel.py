# The container runner's channel to the host: frames out on the container's original stdout, and the
# host's lines in on stdin (job lines, and answers to the job's capability calls). Loaded by
# runner.py before it redirects fd 0, 1 and 2.
#
# Trust: the job runs in the runner's process and can reach this module and its descriptors. That
# is accepted by design: the host parses every frame with a schema and caps its sizes, so a forger
# can only ever fool (or stall) its own job. The container is the boundary.
import json
import os
import threading

_proto_lock = threading.Lock()
_proto = os.dup(1)  # the container's stdout: frames only, from here on


def send(frame):
    data = (json.dumps(frame, allow_nan=False) + "\n").encode()
    with _proto_lock:
        view = memoryview(data)
        while view:
            view = view[os.write(_proto, view):]


class Inbox:
    """The host's lines on stdin, read by one thread: job lines queue for the main loop, answers go
    to the capability call waiting for that id. One reader means a call left waiting by a thread of
    the job can never swallow the next job's line. The job's own fd 0 is /dev/null (`sys.stdin`
    reads nothing); the channel lives on a private descriptor."""

    def __init__(self):
        self.fd = os.dup(0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        self.cond = threading.Condition()
        self.jobs = []
        self.answers = {}
        self.pending = set()
        self.seq = 0
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        with os.fdopen(self.fd, "rb", closefd=False) as f:
            for line in f:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(msg, dict):
                    continue
                with self.cond:
                    if msg.get("t") == "answer":
                        if msg.get("id") in self.pending:
                            self.answers[msg.get("id")] = msg.get("answer")
                    else:
                        self.jobs.append(msg)
                    self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def next_job(self):
        with self.cond:
            while not self.jobs:
                if self.closed:
                    os._exit(0)  # the host went away (stdin closed): end, and Docker removes the container
                self.cond.wait()
            return self.jobs.pop(0)

    def call(self, kind, name, payload):
        """`from isobox import host, fetch` (runtimes/python/capabilities.py, the isolate's own
        module) calls this: a `call` frame out, then block until the host's answer with the same id
        comes in. Handlers, credentials and sockets stay on the host, which validates everything;
        the container has no network. Threads of the job may each have a call waiting."""
        with self.cond:
            self.seq += 1
            call_id = self.seq
            self.pending.add(call_id)
        send({"t": "call", "id": call_id, "kind": kind, "name": name, "args": payload})
        with self.cond:
            while call_id not in self.answers:
                if self.closed:
                    os._exit(0)
                self.cond.wait()
            self.pending.discard(call_id)
            return json.dumps(self.answers.pop(call_id))

    def end_run(self):
        """The run is over and the host answers none of its calls any more: a session's thread still
        waiting on one gets an error instead of waiting forever."""
        with self.cond:
            for call_id in self.pending:
                self.answers[call_id] = {"ok": False, "name": "BindingError", "message": "The job has ended"}
            self.cond.notify_all()
