#!/usr/bin/env python3
"""Check wheels/dist against wheels/wheels.lock.json. Standard library only.

  python3 wheels/verify.py            # static checks + per-wheel isolated imports
  python3 wheels/verify.py --static   # static checks only

Static: every wheel opens, its RECORD matches every file (sha256, urlsafe
base64 without padding, size), WHEEL says py3-none-any / purelib, METADATA
name and version match the lock, no compiled extension is inside, and the
lock's sha256 matches the file.

Imports: for each wheel, unpack it plus its declared `depends` (only those)
into an empty directory, import every top-level name and run a small smoke
test (SMOKE below) in a fresh `python3 -S -s -E` (no site-packages of any
kind on sys.path).
"""
from __future__ import annotations

import base64
import csv
import email.parser
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
COMPILED = (".so", ".pyd", ".dylib", ".dll", ".pyc")

# A small use of each package (run after the imports), so that a missing
# dependency or a missing pure fallback shows up, not only a broken import.
SMOKE = {
    "attrs": "import attrs\n@attrs.define\nclass P:\n    x: int\n    y: int = 0\nassert P(1) == P(1, 0)",
    "charset-normalizer": "import charset_normalizer as c\nassert c.from_bytes('héllo wörld'.encode('utf-8')).best().encoding == 'utf_8'",
    "idna": "import idna\nassert idna.encode('bücher.example') == b'xn--bcher-kva.example'",
    "jinja2": "import jinja2\nassert jinja2.Environment(autoescape=True).from_string('{{ x }}').render(x='<b>') == '&lt;b&gt;'",
    "jsonschema": "import jsonschema\ns = {'type': 'object', 'required': ['a']}\njsonschema.validate({'a': 1}, s)\ntry:\n    jsonschema.validate({}, s)\nexcept jsonschema.ValidationError:\n    pass\nelse:\n    raise AssertionError",
    "markupsafe": "import markupsafe\nassert str(markupsafe.escape('<a>')) == '&lt;a&gt;'\nassert markupsafe.escape.__module__ == 'markupsafe._native'",
    "more-itertools": "import more_itertools as m\nassert list(m.chunked(range(5), 2)) == [[0, 1], [2, 3], [4]]",
    "packaging": "from packaging.version import Version\nfrom packaging.specifiers import SpecifierSet\nassert Version('1.10') in SpecifierSet('>=1.2')",
    "pyrsistent": "import pyrsistent\nv = pyrsistent.pvector([1, 2])\nassert v.append(3) == pyrsistent.pvector([1, 2, 3]) and len(v) == 2",
    "python-dateutil": "from dateutil import parser, relativedelta, tz\nd = parser.parse('2024-01-31T10:00:00Z')\nassert (d + relativedelta.relativedelta(months=1)).day == 29 and d.tzinfo == tz.UTC",
    "pyyaml": "import yaml\nassert not yaml.__with_libyaml__\nassert yaml.safe_load(yaml.safe_dump({'a': [1, 2]})) == {'a': [1, 2]}",
    "simplejson": "import simplejson\nassert simplejson.loads(simplejson.dumps({'a': 1.5})) == {'a': 1.5}",
    "six": "import six\nassert six.PY3 and six.moves.range is range",
    "tabulate": "from tabulate import tabulate\nassert 'a' in tabulate([[1, 2]], headers=['a', 'b'])",
    "toolz": "import toolz, tlz\nassert toolz.groupby(len, ['a', 'bb', 'c'])[1] == ['a', 'c'] and tlz.first([3]) == 3",
    "typing-extensions": "from typing_extensions import TypedDict, Literal\nclass T(TypedDict):\n    a: Literal['x']\nassert T(a='x') == {'a': 'x'}",
    "xmltodict": "import xmltodict\nassert xmltodict.parse('<a><b>1</b></a>') == {'a': {'b': '1'}}",
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def static_check(dist: str, w: dict) -> list[str]:
    errs = []
    path = os.path.join(dist, w["file"])
    with open(path, "rb") as fh:
        if hashlib.sha256(fh.read()).hexdigest() != w["sha256"]:
            errs.append("sha256 differs from lock")
    with zipfile.ZipFile(path) as zf:
        if zf.testzip() is not None:
            errs.append("corrupt member")
        names = zf.namelist()
        di = [n.split("/")[0] for n in names if n.endswith(".dist-info/RECORD")]
        if len(di) != 1:
            return errs + ["expected exactly one .dist-info/RECORD"]
        di = di[0]
        rows = list(csv.reader(io.StringIO(zf.read(f"{di}/RECORD").decode())))
        listed = {r[0] for r in rows}
        if listed != set(names):
            errs.append(f"RECORD/zip mismatch: {sorted(listed ^ set(names))}")
        for r in rows:
            if r[0] == f"{di}/RECORD":
                if r[1:] != ["", ""]:
                    errs.append("RECORD's own line must have no hash")
                continue
            data = zf.read(r[0])
            if r[1] != "sha256=" + b64(data) or int(r[2]) != len(data):
                errs.append(f"bad RECORD entry for {r[0]}")
        wheel = zf.read(f"{di}/WHEEL").decode()
        for line in ("Wheel-Version: 1.0", "Generator: isobox-wheels",
                     "Root-Is-Purelib: true", "Tag: py3-none-any"):
            if line not in wheel.splitlines():
                errs.append(f"WHEEL lacks '{line}'")
        meta = email.parser.Parser().parsestr(zf.read(f"{di}/METADATA").decode(), headersonly=True)
        norm = meta["Name"].lower().replace("_", "-").replace(".", "-")
        if norm != w["name"] or meta["Version"] != w["version"]:
            errs.append(f"METADATA {meta['Name']} {meta['Version']} != lock {w['name']} {w['version']}")
        if sorted(meta.get_all("Requires-Dist") or []) != sorted(w["depends"]):
            errs.append("Requires-Dist differs from lock depends")
        tops = zf.read(f"{di}/top_level.txt").decode().split()
        if sorted(tops) != sorted(w["imports"]):
            errs.append("top_level.txt differs from lock imports")
        bad = [n for n in names if n.endswith(COMPILED) or "__pycache__" in n]
        if bad:
            errs.append(f"compiled files inside: {bad}")
    return errs


def import_check(dist: str, w: dict, by_name: dict) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="wheel-import-") as d:
        todo, seen = [w], set()
        while todo:                      # the wheel plus its declared depends, transitively
            x = todo.pop()
            if x["name"] in seen:
                continue
            seen.add(x["name"])
            with zipfile.ZipFile(os.path.join(dist, x["file"])) as zf:
                zf.extractall(d)
            todo.extend(by_name[n] for n in x["depends"])
        code = (
            "import sys, importlib\n"
            f"sys.path.insert(0, {d!r})\n"
            "assert not any('-packages' in p for p in sys.path), sys.path\n"
            f"for m in {w['imports']!r}:\n"
            "    mod = importlib.import_module(m)\n"
            f"    assert mod.__file__.startswith({d!r}), mod.__file__\n"
            + SMOKE.get(w["name"], "") + "\n"
            "print('ok')\n"
        )
        r = subprocess.run([sys.executable, "-S", "-s", "-E", "-c", code],
                           capture_output=True, text=True, cwd=d)
        return r.returncode == 0, (r.stdout + r.stderr).strip().splitlines()[-1]


def main() -> int:
    with open(os.path.join(HERE, "wheels.lock.json")) as fh:
        lock = json.load(fh)
    dist = os.path.join(HERE, lock.get("dist", "dist"))
    by_name = {w["name"]: w for w in lock["wheels"]}
    on_disk = sorted(f for f in os.listdir(dist) if f.endswith(".whl"))
    failures = 0
    if on_disk != sorted(w["file"] for w in lock["wheels"]):
        print("FAIL dist/ and lock list different wheels")
        failures += 1
    for w in lock["wheels"]:
        missing = [d for d in w["depends"] if d not in by_name]
        errs = static_check(dist, w) + ([f"depends not in set: {missing}"] if missing else [])
        status = "ok" if not errs else "FAIL " + "; ".join(errs)
        if not errs and "--static" not in sys.argv:
            ok, out = import_check(dist, w, by_name)
            status = f"ok (import {', '.join(w['imports'])}; smoke test)" if ok else f"FAIL import: {out}"
            errs = [] if ok else [out]
        failures += bool(errs)
        print(f"{w['file']:48} {status}")
    print(f"{len(lock['wheels']) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
