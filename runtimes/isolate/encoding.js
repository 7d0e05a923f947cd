// TextEncoder/TextDecoder (UTF-8 only, as the Encoding spec requires of TextEncoder and as glue code
// uses TextDecoder) and atob/btoa, in plain JavaScript: done on the host they would copy every buffer
// out of the isolate and back, outside the guest's memory cap.
function utf8Encode(str) {
  str = $String(str);
  const out = new $Uint8Array(str.length * 3);
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    let c = str.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
      const d = str.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate
    if (c < 0x80) out[n++] = c;
    else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
    } else if (c < 0x10000) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    } else {
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 63);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    }
  }
  return out.slice(0, n);
}

function toBytes(input) {
  if (input === undefined) return new $Uint8Array(0);
  if (input instanceof ArrayBuffer) return new $Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new $Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new $TypeError('The "input" argument must be an ArrayBuffer or ArrayBufferView');
}

class TextEncoder {
  get encoding() {
    return "utf-8";
  }
  encode(input = "") {
    return utf8Encode(input);
  }
  encodeInto(src, dest) {
    const bytes = utf8Encode(src);
    let written = 0;
    let read = 0;
    // Copy whole characters only: walk the source again to count UTF-16 units consumed.
    for (let i = 0; i < src.length; i++) {
      const cp = src.codePointAt(i);
      const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (written + len > dest.length) break;
      written += len;
      read += cp >= 0x10000 ? 2 : 1;
      if (cp >= 0x10000) i++;
    }
    dest.set(bytes.subarray(0, written));
    return { read, written };
  }
}

const UTF8_LABELS = ["utf-8", "utf8", "unicode-1-1-utf-8"];
const UTF16LE_LABELS = ["utf-16le", "utf-16"];
// Pyodide decodes CPython's one-byte strings with "latin1": every byte is its own code point.
const LATIN1_LABELS = ["latin1", "iso-8859-1", "l1"];
class TextDecoder {
  #fatal;
  #ignoreBOM;
  #pending = new $Uint8Array(0);
  #bomSeen = false;
  #utf16 = false;
  #latin1 = false;
  constructor(label = "utf-8", options = {}) {
    const name = $String(label).trim().toLowerCase();
    this.#utf16 = UTF16LE_LABELS.includes(name);
    this.#latin1 = LATIN1_LABELS.includes(name);
    if (!this.#utf16 && !this.#latin1 && !UTF8_LABELS.includes(name)) {
      throw new $RangeError('The "' + label + '" encoding is not supported in the sandbox (utf-8, utf-16le and latin1 only)');
    }
    this.#fatal = !!(options && options.fatal);
    this.#ignoreBOM = !!(options && options.ignoreBOM);
  }
  get encoding() {
    return this.#utf16 ? "utf-16le" : this.#latin1 ? "latin1" : "utf-8";
  }
  get fatal() {
    return this.#fatal;
  }
  get ignoreBOM() {
    return this.#ignoreBOM;
  }
  decode(input, options = {}) {
    if (this.#utf16) return decodeUtf16le(toBytes(input));
    if (this.#latin1) return decodeLatin1(toBytes(input));
    const stream = !!(options && options.stream);
    let bytes = toBytes(input);
    if (this.#pending.length) {
      const b = new $Uint8Array(this.#pending.length + bytes.length);
      b.set(this.#pending);
      b.set(bytes, this.#pending.length);
      bytes = b;
    }
    this.#pending = new $Uint8Array(0);
    if (stream) {
      // Hold back an incomplete sequence at the end of a streamed chunk for the next call.
      let j = bytes.length - 1;
      while (j >= 0 && j > bytes.length - 4 && (bytes[j] & 0xc0) === 0x80) j--;
      if (j >= 0) {
        const b = bytes[j];
        const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
        if (len > bytes.length - j) {
          this.#pending = bytes.slice(j);
          bytes = bytes.subarray(0, j);
        }
      }
    }
    let out = decodeUtf8(bytes, this.#fatal);
    if (!this.#ignoreBOM && !this.#bomSeen && out.charCodeAt(0) === 0xfeff) out = out.slice(1);
    if (out.length) this.#bomSeen = true;
    if (!stream) {
      this.#bomSeen = false;
      if (this.#pending.length) {
        this.#pending = new $Uint8Array(0);
        if (this.#fatal) throw new $TypeError("The encoded data was not valid utf-8");
        out += "\ufffd";
      }
    }
    return out;
  }
}

/**
 * Complete UTF-8 sequences to a string; each ill-formed sequence is one U+FFFD (the Encoding spec's
 * "maximal subpart" rule) or, when fatal, a TypeError. Code points go out 8192 at a time: one
 * fromCodePoint call per byte would be slow, one per buffer would overflow the argument stack.
 */
function decodeUtf8(bytes, fatal) {
  let out = "";
  let chunk = [];
  let i = 0;
  const bad = () => {
    if (fatal) throw new $TypeError("The encoded data was not valid utf-8");
    chunk.push(0xfffd);
  };
  while (i < bytes.length) {
    const b = bytes[i];
    let need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) {
      bad();
      i++;
      continue;
    }
    if (need === 0) {
      chunk.push(b);
      i++;
    } else {
      let cp = b & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
      let k = 1;
      for (; k <= need; k++) {
        const c = bytes[i + k];
        let lo = 0x80,
          hi = 0xbf;
        if (k === 1) {
          if (b === 0xe0) lo = 0xa0;
          if (b === 0xed) hi = 0x9f;
          if (b === 0xf0) lo = 0x90;
          if (b === 0xf4) hi = 0x8f;
        }
        if (c === undefined || c < lo || c > hi) break;
        cp = (cp << 6) | (c & 0x3f);
      }
      if (k <= need) {
        bad();
        i += k;
        continue;
      }
      chunk.push(cp);
      i += need + 1;
    }
    if (chunk.length > 8192) {
      out += String.fromCodePoint(...chunk);
      chunk = [];
    }
  }
  if (chunk.length) out += String.fromCodePoint(...chunk);
  return out;
}

/** UTF-16LE (what Emscripten uses for UTF16ToString); an odd trailing byte is U+FFFD. */
function decodeUtf16le(bytes) {
  let out = "";
  const n = bytes.length >> 1;
  for (let i = 0; i < n; i += 8192) {
    const units = [];
    for (let k = i; k < $Math_min(n, i + 8192); k++) units.push(bytes[2 * k] | (bytes[2 * k + 1] << 8));
    out += String.fromCharCode(...units);
  }
  if (bytes.length & 1) out += "\ufffd";
  return out;
}

function decodeLatin1(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function btoa(data) {
  data = $String(data);
  let out = "";
  for (let i = 0; i < data.length; i += 3) {
    const a = data.charCodeAt(i),
      b = data.charCodeAt(i + 1),
      c = data.charCodeAt(i + 2);
    if (a > 255 || b > 255 || c > 255) throw new DOMException("Invalid character", "InvalidCharacterError");
    const n = (a << 16) | ((b || 0) << 8) | (c || 0);
    out +=
      B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < data.length ? B64[(n >> 6) & 63] : "=") + (i + 2 < data.length ? B64[n & 63] : "=");
  }
  return out;
}
function atob(data) {
  data = $String(data).replace(/[\t\n\f\r ]/g, "");
  if (data.length % 4 === 0) data = data.replace(/==?$/, "");
  if (data.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(data))
    throw new DOMException("The string to be decoded is not correctly encoded.", "InvalidCharacterError");
  let out = "";
  let bits = 0,
    acc = 0;
  for (let i = 0; i < data.length; i++) {
    acc = (acc << 6) | B64.indexOf(data[i]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((acc >> bits) & 255);
    }
  }
  return out;
}

class DOMException extends $Error {
  #name;
  constructor(message = "", name = "Error") {
    super(message);
    this.#name = $String(name);
  }
  get name() {
    return this.#name;
  }
}
