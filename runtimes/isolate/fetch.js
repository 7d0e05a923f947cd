// `fetch` for JavaScript guests, present only when the sandbox was given the fetch capability. The
// request leaves as JSON through the capability door; the host enforces the allow-list, the address
// guard (after DNS, on every redirect), the size cap and the timeout, and answers with the response.
function bytesToBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += $String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function headerRecord(init) {
  const out = $Object_create(null);
  if (init === undefined || init === null) return out;
  if (init instanceof FetchHeaders) {
    init.forEach((v, k) => {
      out[k] = v;
    });
    return out;
  }
  if ($Array_isArray(init)) {
    for (let i = 0; i < init.length; i++) out[$String(init[i][0]).toLowerCase()] = $String(init[i][1]);
    return out;
  }
  const keys = $Object_keys(init);
  for (let i = 0; i < keys.length; i++) out[keys[i].toLowerCase()] = $String(init[keys[i]]);
  return out;
}

class FetchHeaders {
  #map;
  constructor(init) {
    this.#map = new $Map();
    const r = headerRecord(init);
    const k = $Object_keys(r);
    for (let i = 0; i < k.length; i++) this.#map.set(k[i], r[k[i]]);
  }
  get(name) {
    const v = this.#map.get($String(name).toLowerCase());
    return v === undefined ? null : v;
  }
  has(name) {
    return this.#map.has($String(name).toLowerCase());
  }
  set(name, value) {
    this.#map.set($String(name).toLowerCase(), $String(value));
  }
  append(name, value) {
    const k = $String(name).toLowerCase();
    const v = this.#map.get(k);
    this.#map.set(k, v === undefined ? $String(value) : v + ", " + $String(value));
  }
  delete(name) {
    this.#map.delete($String(name).toLowerCase());
  }
  forEach(fn) {
    this.#map.forEach((v, k) => fn(v, k, this));
  }
  *entries() {
    yield* this.#map.entries();
  }
  *keys() {
    yield* this.#map.keys();
  }
  *values() {
    yield* this.#map.values();
  }
  [Symbol.iterator]() {
    return this.#map.entries();
  }
}

class FetchResponse {
  #bytes;
  #used = false;
  constructor(bytes, meta) {
    this.#bytes = bytes;
    this.status = meta.status;
    this.statusText = meta.statusText;
    this.ok = meta.status >= 200 && meta.status < 300;
    this.url = meta.url;
    this.redirected = !!meta.redirected;
    this.headers = new FetchHeaders(meta.headers);
  }
  get bodyUsed() {
    return this.#used;
  }
  #take() {
    if (this.#used) throw new $TypeError("Body has already been used");
    this.#used = true;
    return this.#bytes;
  }
  async arrayBuffer() {
    const b = this.#take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  }
  async bytes() {
    return this.#take().slice();
  }
  async text() {
    return new TextDecoder().decode(this.#take());
  }
  async json() {
    return $JSON_parse(await this.text());
  }
}

function makeFetch(call) {
  return async function fetch(input, init) {
    init = init || {};
    const url =
      typeof input === "string"
        ? input
        : input && typeof input.href === "string"
          ? input.href
          : input && typeof input.url === "string"
            ? input.url
            : safeString(input);
    const request = record({
      url,
      method: $String(init.method || (input && input.method) || "GET").toUpperCase(),
      headers: headerRecord(init.headers || (input && input.headers)),
    });
    const body = init.body;
    if (body !== undefined && body !== null) {
      if (typeof body === "string") request.body = body;
      else if (body instanceof URLSearchParams) {
        request.body = body.toString();
        request.headers["content-type"] ??= "application/x-www-form-urlencoded;charset=UTF-8";
      } else if (body instanceof ArrayBuffer) request.bodyBase64 = bytesToBase64(new $Uint8Array(body));
      else if (ArrayBuffer.isView(body)) request.bodyBase64 = bytesToBase64(new $Uint8Array(body.buffer, body.byteOffset, body.byteLength));
      else throw new $TypeError("fetch: the body must be a string, URLSearchParams, ArrayBuffer or typed array");
    }
    const r = await call("fetch", "fetch", request);
    return new FetchResponse(atobBytes(r.bodyBase64 || ""), r);
  };
}
