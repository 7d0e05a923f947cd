// URL and URLSearchParams. Parsing and property setters go to the host's WHATWG parser (Node's Ada)
// through one string-in/strings-out callback: a spec-exact parser re-implemented here would be
// thousands of lines; the callback copies only strings (length-capped on the host).
const URL_FIELDS = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"];

function formEncode(s) {
  return encodeURIComponent(s)
    .replace(/[!'()~]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, "+");
}
function formDecode(s) {
  const t = s.replace(/\+/g, " ");
  try {
    return decodeURIComponent(t);
  } catch {
    return t.replace(/%[0-9A-Fa-f]{2}/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return "\ufffd";
      }
    });
  }
}

class URLSearchParams {
  #list = [];
  #url = null;
  constructor(init = "") {
    if (init instanceof URLSearchParams) this.#list = init.#list.map((p) => [p[0], p[1]]);
    else if (typeof init === "object" && init !== null) {
      if (typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const p = [...pair];
          if (p.length !== 2) throw new $TypeError("Each query pair must be an iterable [name, value] tuple");
          this.#list.push([$String(p[0]), $String(p[1])]);
        }
      } else for (const k of $Object_keys(init)) this.#list.push([k, $String(init[k])]);
    } else this.#parse($String(init));
  }
  #parse(s) {
    if (s.startsWith("?")) s = s.slice(1);
    this.#list = s
      ? s
          .split("&")
          .filter((x) => x)
          .map((kv) => {
            const i = kv.indexOf("=");
            return i < 0 ? [formDecode(kv), ""] : [formDecode(kv.slice(0, i)), formDecode(kv.slice(i + 1))];
          })
      : [];
  }
  #update() {
    if (this.#url) this.#url._setSearchFromParams(this.toString());
  }
  static _linked(url, search) {
    const p = new URLSearchParams(search);
    p.#url = url;
    return p;
  }
  _reparse(search) {
    this.#parse(search);
  }
  get size() {
    return this.#list.length;
  }
  append(k, v) {
    this.#list.push([$String(k), $String(v)]);
    this.#update();
  }
  delete(k, v) {
    k = $String(k);
    this.#list = this.#list.filter((p) => !(p[0] === k && (v === undefined || p[1] === $String(v))));
    this.#update();
  }
  get(k) {
    k = $String(k);
    const p = this.#list.find((p) => p[0] === k);
    return p ? p[1] : null;
  }
  getAll(k) {
    k = $String(k);
    return this.#list.filter((p) => p[0] === k).map((p) => p[1]);
  }
  has(k, v) {
    k = $String(k);
    return this.#list.some((p) => p[0] === k && (v === undefined || p[1] === $String(v)));
  }
  set(k, v) {
    k = $String(k);
    v = $String(v);
    const i = this.#list.findIndex((p) => p[0] === k);
    if (i < 0) this.#list.push([k, v]);
    else {
      this.#list[i][1] = v;
      this.#list = this.#list.filter((p, j) => j <= i || p[0] !== k);
    }
    this.#update();
  }
  sort() {
    this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.#update();
  }
  forEach(fn, thisArg) {
    for (const [k, v] of this.#list) fn.call(thisArg, v, k, this);
  }
  keys() {
    return this.#list.map((p) => p[0])[Symbol.iterator]();
  }
  values() {
    return this.#list.map((p) => p[1])[Symbol.iterator]();
  }
  entries() {
    return this.#list.map((p) => [p[0], p[1]])[Symbol.iterator]();
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  toString() {
    return this.#list.map((p) => formEncode(p[0]) + "=" + formEncode(p[1])).join("&");
  }
  get [Symbol.toStringTag]() {
    return "URLSearchParams";
  }
}

function makeURL(urlOp) {
  const parse = (input, base) => {
    const r = urlOp("parse", $String(input), base === undefined ? undefined : $String(base));
    if (r === null || r === undefined) throw new $TypeError("Invalid URL: " + $String(input));
    return r;
  };
  let fieldsOf, setField; // filled by the class's static block: private state stays private
  class URL {
    #c;
    #params = null;
    static {
      fieldsOf = (u) => u.#c;
      setField = (u, f, v) => u.#set(f, v);
    }
    constructor(input, base) {
      this.#c = parse(input, base);
    }
    static canParse(input, base) {
      try {
        parse(input, base);
        return true;
      } catch {
        return false;
      }
    }
    static parse(input, base) {
      try {
        return new URL(input, base);
      } catch {
        return null;
      }
    }
    #set(field, value) {
      const r = urlOp("set", this.#c[0], field, $String(value));
      if (r) this.#c = r;
      if ((field === "search" || field === "href") && this.#params) this.#params._reparse(this.#c[9]);
    }
    _setSearchFromParams(s) {
      const r = urlOp("set", this.#c[0], "search", s);
      if (r) this.#c = r;
      if (!s) this.#set("search", "");
    }
    get searchParams() {
      return this.#params || (this.#params = URLSearchParams._linked(this, this.#c[9]));
    }
    toString() {
      return this.#c[0];
    }
    toJSON() {
      return this.#c[0];
    }
    get [Symbol.toStringTag]() {
      return "URL";
    }
  }
  defineURLFields(URL, fieldsOf, setField);
  return URL;
}

/** URL's href, host, pathname, …: prototype accessors over the parsed fields (origin has no setter). */
function defineURLFields(URL, fieldsOf, setField) {
  URL_FIELDS.forEach((field, i) => {
    const desc = {
      get() {
        return fieldsOf(this)[i];
      },
      enumerable: true,
      configurable: true,
    };
    if (field !== "origin")
      desc.set = function (v) {
        setField(this, field, v);
      };
    $Object_defineProperty(URL.prototype, field, desc);
  });
}
