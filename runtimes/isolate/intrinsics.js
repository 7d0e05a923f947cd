// Captured before any guest code runs: the guest may later poison globals and prototypes of its own
// isolate (threat: a guest rewriting JSON/Object/Array to confuse the runner's result handling).
const $JSON_stringify = JSON.stringify;
const $JSON_parse = JSON.parse;
const $String = String;
const $Number = Number;
const $Object_freeze = Object.freeze;
const $Object_defineProperty = Object.defineProperty;
const $Object_keys = Object.keys;
const $Object_create = Object.create;
const $Object_getPrototypeOf = Object.getPrototypeOf;
const $Object_prototype_toString = Object.prototype.toString;
const $Array_isArray = Array.isArray;
const $Promise = Promise;
const $Promise_resolve = Promise.resolve.bind(Promise);
const $Reflect_apply = Reflect.apply;
const $Reflect_construct = Reflect.construct;
const $Map = Map;
const $Error = Error;
const $TypeError = TypeError;
const $RangeError = RangeError;
const $Uint8Array = Uint8Array;
// A typed array's length as V8 keeps it (the getter throws for anything that is not one), not the
// guest-reachable .length or .buffer.
const $TypedArray_length = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "length").get;
const $Math_min = Math.min;
const $Math_floor = Math.floor;
const $Math_max = Math.max;
const $Date_now = Date.now;
// The host process runs with --expose-gc so a Python guest can drop its boot garbage (the 30 MB
// snapshot copy) before it waits in the warm pool; no guest code ever sees the function.
const $gc = typeof globalThis.gc === "function" ? globalThis.gc : null;
if ($gc) globalThis.gc = undefined; // V8 installs it non-configurable (cannot be deleted) but writable
// Methods called on guest-reachable values by the runner, as plain functions (threat: a guest
// replacing Array.prototype.filter, String.prototype.split or Promise.prototype.then).
const $uncurry =
  (fn) =>
  (self, ...args) =>
    $Reflect_apply(fn, self, args);
const $split = $uncurry(String.prototype.split);
const $slice = $uncurry(String.prototype.slice);
const $includes = $uncurry(String.prototype.includes);
const $then = $uncurry(Promise.prototype.then);
const $hasOwn = $uncurry(Object.prototype.hasOwnProperty);

/** Define a non-enumerable global, as the web platform does for its APIs. */
function defineGlobal(name, value) {
  $Object_defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

/** A string conversion that can never throw (guest objects may have throwing toString/getters). */
function safeString(v) {
  try {
    return $String(v);
  } catch {
    try {
      return $Object_prototype_toString.call(v);
    } catch {
      return "[unprintable]";
    }
  }
}

/** A record with no prototype: safe to hand back to the host even if Object.prototype is poisoned. */
function record(fields) {
  const r = $Object_create(null);
  const keys = $Object_keys(fields);
  for (let i = 0; i < keys.length; i++) r[keys[i]] = fields[keys[i]]; // no iterator: it may be poisoned
  return r;
}
