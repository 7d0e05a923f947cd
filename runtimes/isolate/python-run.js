// Python guests, once per run: the job's files and capabilities are set up, the runner is called (its
// synchronous form first; only a job that awaits goes on asynchronously), and the envelope is made,
// with the files the job left in its output folder. A session's interpreter is started once per run.

// An exception that escaped the runner itself (it ran out of memory while reporting, say).
function pythonFailure(e) {
  let type = "";
  try {
    type = $String(e && e.type);
  } catch {
    /* unreadable */
  }
  if (type === "MemoryError") return record({ kind: "memory" });
  const error = describeError(e);
  if (type && type !== "undefined") error.name = $slice(type, 0, 256); // KeyboardInterrupt at the deadline, say
  return record({ kind: "error", error });
}

function streamWriter(bridge, fd) {
  const decoder = new TextDecoder();
  return {
    write: (buffer) => {
      bridge.write(fd, decoder.decode(buffer, { stream: true }));
      return buffer.length;
    },
  };
}

/** Set the run up and call the runner: the envelope as JSON, or a promise of it (the job awaits). */
function callPythonRunner(bridge, pyodide, entry, files, spec) {
  files.begin(spec.files, spec.maxFsBytes);
  entry.begin(spec.capabilitiesJson, spec.session);
  // Bytes as written, not Pyodide's batched lines: a batched handler keeps an unterminated last line
  // to itself, and that line was lost (print(x, end="") before the end of a job). The host's
  // OutputSink splits lines and flushes the last partial one when the run ends, as the container's
  // runner does. One decoder per stream and run: a character split across writes stays whole.
  pyodide.setStdout(streamWriter(bridge, 1));
  pyodide.setStderr(streamWriter(bridge, 2));
  const now = entry.runSync(spec.code, spec.inputJson, spec.envJson, spec.jobId, spec.maxValueBytes); // undefined input arrives as None
  if (typeof now === "string") return now;
  return entry.run(spec.code, spec.inputJson, spec.envJson, spec.jobId, spec.maxValueBytes);
}

/**
 * The runs of one interpreter. `entry`: the runner's entry points (python.js); `memoryCap`: the
 * WebAssembly growth cap (python-shims.js), set to each run's memory limit.
 */
function makePythonRun(bridge, pyodide, entry, timers, uncaught, memoryCap) {
  const files = makePythonFiles(pyodide.FS);
  let settled;
  let settle;
  let done;
  const finish = (outcome) => {
    // A job that died of a refused growth (it raised RangeError, not MemoryError, through a table).
    const envelope = outcome.kind === "error" && memoryCap.refused() ? record({ kind: "memory" }) : outcome;
    // Output files travel with the envelope (no second call into the isolate); none after a MemoryError.
    if (envelope.kind !== "memory") {
      try {
        const out = files.harvest();
        if (out.length) envelope.files = out;
      } catch {
        /* unreadable: no files */
      }
    }
    settled = envelope;
    settle(envelope);
  };
  function start(rawSpec) {
    const spec = readRunSpec(rawSpec);
    if (spec.code === undefined) throw new $TypeError("isobox: a Python run spec has no code");
    memoryCap.set(spec.memoryBytes);
    settled = undefined;
    done = new $Promise((r) => {
      settle = r;
    });
    timers.reset();
    let promise;
    try {
      const now = callPythonRunner(bridge, pyodide, entry, files, spec);
      if (typeof now === "string") {
        finish(record($JSON_parse(now)));
        return;
      }
      promise = now;
    } catch (e) {
      finish(pythonFailure(e));
      return;
    }
    const race = new $Promise((resolve, reject) => {
      $then($Promise_resolve(promise), resolve, reject);
      $then(uncaught, resolve, reject);
    });
    $then(
      race,
      (json) => finish(record($JSON_parse(json))),
      (e) => finish(pythonFailure(e)),
    );
  }
  return { start, poll: () => settled, wait: () => done };
}
