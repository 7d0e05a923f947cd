// What every guest has taken away before its first line runs: each lock closes one way past the
// isolate's caps. One set for both kinds: JavaScript guests are locked as the prelude runs
// (javascript.js), Python guests as soon as Pyodide has booted (python.js), because the boot itself
// needs WebAssembly; no job code runs before either.

/** A function that refuses, put where a constructor was. */
function unavailable(what) {
  return function () {
    throw new $TypeError(what + " is not available in the sandbox");
  };
}

/** Replace a prototype's `constructor` for good (threat: reaching a hidden constructor through an instance). */
function sealConstructor(prototype, value) {
  $Object_defineProperty(prototype, "constructor", { value, writable: false, configurable: false, enumerable: false });
}

// Threat: a resizable ArrayBuffer reserves its maxByteLength outside isolated-vm's allocator, so
// resize() grows memory the cap never sees. Both ways to reach the constructor refuse the option.
function lockResizableBuffers() {
  const NativeArrayBuffer = ArrayBuffer;
  const SafeArrayBuffer = new Proxy(NativeArrayBuffer, {
    construct(target, args, newTarget) {
      const options = args[1];
      if (options !== null && typeof options === "object" && options.maxByteLength !== undefined) {
        throw new $RangeError("Resizable ArrayBuffers are not available in the sandbox");
      }
      return $Reflect_construct(target, [args[0]], newTarget === SafeArrayBuffer ? target : newTarget);
    },
  });
  sealConstructor(NativeArrayBuffer.prototype, SafeArrayBuffer);
  $Object_defineProperty(globalThis, "ArrayBuffer", { value: SafeArrayBuffer, writable: true, configurable: true, enumerable: false });
}

// Threat: SharedArrayBuffer memory, a growable one above all, is allocated outside isolated-vm's
// memoryLimit. The global goes, and so does the constructor of every shared buffer that exists
// (a Python guest holds one: Pyodide's interrupt buffer).
function lockSharedBuffers() {
  const Shared = globalThis.SharedArrayBuffer;
  delete globalThis.SharedArrayBuffer;
  if (typeof Shared === "function") sealConstructor(Shared.prototype, unavailable("SharedArrayBuffer"));
}

// Threat: Atomics.wait blocks the isolate's thread where termination cannot reach it, and
// waitAsync parks a waiter outside the guest's timers. Pyodide needs neither: it reads its
// interrupt buffer with plain reads, and its only wait (a retry sleep on EAGAIN from a host file
// descriptor, which an isolate has none of) catches the refusal.
function lockAtomicsWait() {
  if (typeof Atomics !== "object") return;
  $Object_defineProperty(Atomics, "wait", { value: unavailable("Atomics.wait"), configurable: false, writable: false });
  $Object_defineProperty(Atomics, "waitAsync", { value: unavailable("Atomics.waitAsync"), configurable: false, writable: false });
}

// Threat: WebAssembly memory is outside isolated-vm's memoryLimit (a module's own memory is made at
// instantiation, where no grow() check runs), and a compiled module is the guest's own machine code.
// The global goes, and so does every constructor still reachable through an object's prototype
// (memory.constructor, Object.getPrototypeOf(instance).constructor). Pyodide holds its own references.
function lockWebAssembly() {
  const W = globalThis.WebAssembly;
  delete globalThis.WebAssembly;
  if (W === null || typeof W !== "object") return;
  for (const name of ["Module", "Instance", "Memory", "Table", "Global", "Tag"]) {
    const ctor = W[name];
    if (typeof ctor === "function") sealConstructor(ctor.prototype, unavailable("WebAssembly." + name));
  }
  // A resizable view of a Memory grows it without passing Memory.prototype.grow (newer V8).
  const memory = typeof W.Memory === "function" ? W.Memory.prototype : null;
  if (memory && typeof memory.toResizableBuffer === "function") {
    $Object_defineProperty(memory, "toResizableBuffer", {
      value: unavailable("WebAssembly.Memory.toResizableBuffer"),
      configurable: false,
      writable: false,
    });
  }
}

function lockdown() {
  lockResizableBuffers();
  lockSharedBuffers();
  lockAtomicsWait();
  lockWebAssembly();
}
