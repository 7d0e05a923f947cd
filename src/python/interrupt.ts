// Runs in: the sandbox host process (the guest's worker thread and the host thread that stops it).
// A Python guest's interrupt buffer (Int32 slots), shared by the guest's worker and the host thread
// that sets it at the deadline: [SIGNAL] is Pyodide's (2 = SIGINT), [SENT] marks "the host sent it".
export const INTERRUPT_SIGNAL = 0;
export const INTERRUPT_SENT = 1;
export const SIGINT = 2;

/** The host thread's soft stop: what the guest's KeyboardInterrupt and its "timeout" both read. */
export function sendInterrupt(buffer: SharedArrayBuffer): void {
  const view = new Int32Array(buffer);
  Atomics.store(view, INTERRUPT_SENT, 1);
  Atomics.store(view, INTERRUPT_SIGNAL, SIGINT);
}
