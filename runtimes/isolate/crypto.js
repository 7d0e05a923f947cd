// crypto.getRandomValues / randomUUID from the host's CSPRNG (copy-only callback; at most 64 KiB a
// call, as the Web Crypto spec says).
function makeCrypto(randomBytes) {
  const INTEGER_ARRAYS = [
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    BigInt64Array,
    BigUint64Array,
  ];
  function getRandomValues(array) {
    if (!INTEGER_ARRAYS.some((T) => array instanceof T))
      throw new DOMException("The data argument must be an integer-type TypedArray", "TypeMismatchError");
    if (array.byteLength > 65536)
      throw new DOMException(
        "The ArrayBufferView's byte length (" +
          array.byteLength +
          ") exceeds the number of bytes of entropy available via this API (65536)",
        "QuotaExceededError",
      );
    const bytes = randomBytes(array.byteLength);
    new $Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(bytes);
    return array;
  }
  function randomUUID() {
    const b = randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => (x + 0x100).toString(16).slice(1)).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  return $Object_freeze({ getRandomValues, randomUUID });
}
