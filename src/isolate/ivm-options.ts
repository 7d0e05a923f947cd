// isolated-vm reads its option objects through the prototype chain, so a polluted Object.prototype in
// the host could switch options on (threat: prototype pollution turning `reference`/`copy` semantics
// or limits). Every options object handed to isolated-vm is built here: frozen, null-prototype.
export function ivmOptions<const T extends object>(fields: T): T {
  const o = Object.create(null) as T;
  for (const [k, v] of Object.entries(fields)) {
    (o as Record<string, unknown>)[k] =
      v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype ? ivmOptions(v) : v;
  }
  return Object.freeze(o);
}
