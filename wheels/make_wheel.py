#!/usr/bin/env python3
"""Repackage the pure-Python part of extracted Debian python3-* packages as
py3-none-any wheels, and write the lock file. Standard library only.

Usage (called by build.sh):
  make_wheel.py --out DIR --lock FILE SPEC [SPEC ...]

Each SPEC is  DEB_PATH|ROOT|EXCLUDES|DEPENDS  where ROOT is the directory the
.deb was extracted into with `dpkg-deb -x`, EXCLUDES is a comma-separated
list of top-level names to leave out and DEPENDS a comma-separated list of
normalized wheel names (in this set) the package needs.

Everything is written to a staging directory first; DIR is only replaced
when at least one wheel was built.
"""
from __future__ import annotations

import argparse
import base64
import csv
import email.parser
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

DIST_PACKAGES = "usr/lib/python3/dist-packages"
GENERATOR = "isobox-wheels"

# PEP 440 (canonical public version, from the spec's appendix).
PEP440 = re.compile(
    r"^([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*"
    r"((a|b|rc)(0|[1-9][0-9]*))?(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?$"
)
# Suffixes and files that are not pure Python / not needed at run time.
DROP_SUFFIXES = (".so", ".pyd", ".dylib", ".dll", ".pyc", ".pyo", ".c", ".h", ".pyx", ".pxd")
DROP_DIRS = {"__pycache__", "tests", "test"}
# Metadata headers copied over from the upstream PKG-INFO/METADATA.
COPY_HEADERS = ("Summary", "Home-page", "Author", "Author-email", "Maintainer",
                "Maintainer-email", "License", "Project-URL", "Classifier")


def log(msg: str) -> None:
    print(f"[make_wheel] {msg}", file=sys.stderr, flush=True)


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def debian_to_pep440(debver: str) -> str:
    """'1:2.8.2-2' -> '2.8.2'; '2.28.1+dfsg-1' -> '2.28.1'."""
    v = debver.split(":", 1)[1] if ":" in debver else debver
    if "-" in v:
        v = v.rsplit("-", 1)[0]          # Debian revision
    v = re.split(r"[+~]", v, 1)[0]      # +dfsg, +ds, ~rc repack markers
    return v


def b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def dpkg_field(deb: str, field: str) -> str:
    out = subprocess.run(["dpkg-deb", "-f", deb, field], check=True,
                         capture_output=True, text=True).stdout.strip()
    return out


def find_upstream_metadata(dp: str):
    """Return (name, version, message, license_files) from *.dist-info or *.egg-info."""
    for entry in sorted(os.listdir(dp)):
        full = os.path.join(dp, entry)
        if entry.endswith(".dist-info") and os.path.isfile(os.path.join(full, "METADATA")):
            meta = os.path.join(full, "METADATA")
        elif entry.endswith(".egg-info"):
            meta = os.path.join(full, "PKG-INFO") if os.path.isdir(full) else full
            if not os.path.isfile(meta):
                continue
        else:
            continue
        with open(meta, encoding="utf-8", errors="replace") as fh:
            msg = email.parser.Parser().parse(fh, headersonly=True)
        lic = []
        if os.path.isdir(full):
            for root, _dirs, files in os.walk(full):
                for f in files:
                    if re.match(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", f, re.I):
                        lic.append(os.path.join(root, f))
        return msg["Name"], msg["Version"], msg, sorted(lic)
    return None, None, None, []


def collect_files(dp: str, excludes: set[str]):
    """Top-level import names and (archive path, filesystem path) pairs."""
    tops, files, dropped = [], [], []
    for entry in sorted(os.listdir(dp)):
        full = os.path.join(dp, entry)
        if entry.endswith((".dist-info", ".egg-info")) or entry in DROP_DIRS:
            continue
        if entry.endswith(".py") and os.path.isfile(full):
            name = entry[:-3]
            if name in excludes:
                dropped.append(entry)
                continue
            tops.append(name)
            files.append((entry, full))
        elif os.path.isdir(full) and not os.path.islink(full):
            if entry in excludes:
                dropped.append(entry + "/")
                continue
            if not os.path.isfile(os.path.join(full, "__init__.py")):
                dropped.append(entry + "/ (not a package)")
                continue
            tops.append(entry)
            for root, dirs, fnames in os.walk(full):
                for d in dirs:
                    if d in DROP_DIRS:
                        dropped.append(os.path.relpath(os.path.join(root, d), dp) + "/")
                dirs[:] = sorted(d for d in dirs if d not in DROP_DIRS)
                for f in sorted(fnames):
                    p = os.path.join(root, f)
                    rel = os.path.relpath(p, dp).replace(os.sep, "/")
                    if f.endswith(DROP_SUFFIXES) or ".cpython-" in f:
                        dropped.append(rel)
                        continue
                    if os.path.islink(p):
                        target = os.path.realpath(p)
                        if not (target.startswith(os.path.realpath(dp) + os.sep) and os.path.isfile(target)):
                            dropped.append(rel + " (symlink out of package)")
                            continue
                    files.append((rel, p))
        else:
            dropped.append(entry)       # top-level .so, .pth, stray files
    return tops, files, dropped


def zinfo(path: str, mtime: float, mode: int = 0o644) -> zipfile.ZipInfo:
    t = time.gmtime(max(mtime, 315532800))  # zip can't go before 1980
    zi = zipfile.ZipInfo(path, date_time=t[:6])
    zi.compress_type = zipfile.ZIP_DEFLATED
    zi.external_attr = (0o100000 | mode) << 16
    return zi


def build_one(spec: str, outdir: str):
    deb, root, excludes, depends = (spec.split("|") + ["", "", ""])[:4]
    excludes = {e for e in excludes.split(",") if e}
    depends = sorted({normalize(d) for d in depends.split(",") if d})
    dp = os.path.join(root, DIST_PACKAGES)
    if not os.path.isdir(dp):
        raise RuntimeError(f"{deb}: no {DIST_PACKAGES} in the package")

    deb_pkg = dpkg_field(deb, "Package")
    deb_ver = dpkg_field(deb, "Version")
    deb_src = (dpkg_field(deb, "Source") or deb_pkg).split(" ")[0]

    up_name, up_ver, up_msg, lic_files = find_upstream_metadata(dp)
    name = up_name or re.sub(r"^python3-", "", deb_pkg)
    version = debian_to_pep440(deb_ver)
    if not PEP440.match(version):
        if up_ver and PEP440.match(up_ver):
            log(f"{deb_pkg}: '{version}' is not PEP 440, using upstream metadata version {up_ver}")
            version = up_ver
        else:
            raise RuntimeError(f"{deb_pkg}: cannot derive a PEP 440 version from {deb_ver!r}")
    if up_ver and up_ver != version:
        log(f"{deb_pkg}: note: Debian version {version} differs from upstream metadata {up_ver}")

    tops, files, dropped = collect_files(dp, excludes)
    if not tops:
        raise RuntimeError(f"{deb_pkg}: no pure-Python top-level module found")
    for d in dropped:
        log(f"{deb_pkg}: dropped {d}")

    norm = normalize(name)
    dist_name = norm.replace("-", "_")
    di = f"{dist_name}-{version}.dist-info"
    whl_name = f"{dist_name}-{version}-py3-none-any.whl"
    newest = max(os.lstat(p).st_mtime for _, p in files)

    # METADATA
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if up_msg is not None:
        for h in COPY_HEADERS:
            for v in up_msg.get_all(h) or []:
                v = " ".join(str(v).split())
                if v and v != "UNKNOWN":
                    lines.append(f"{h}: {v}")
    for d in depends:
        lines.append(f"Requires-Dist: {d}")
    meta_files: list[tuple[str, bytes]] = []
    licenses: list[tuple[str, bytes]] = []
    for lf in lic_files:
        with open(lf, "rb") as fh:
            licenses.append((f"{di}/{os.path.basename(lf)}", fh.read()))
    copyright_path = os.path.join(root, "usr/share/doc", deb_pkg, "copyright")
    if os.path.isfile(copyright_path):
        with open(copyright_path, "rb") as fh:
            licenses.append((f"{di}/COPYRIGHT.debian", fh.read()))
    else:
        log(f"{deb_pkg}: WARNING: no Debian copyright file at {copyright_path}")
    for arc, _ in licenses:
        lines.append(f"License-File: {arc.split('/', 1)[1]}")
    lines.append(f"Description: Repackaged by {GENERATOR} from Debian {deb_pkg} {deb_ver} "
                 f"(source {deb_src}); pure-Python files only.")
    meta_files.append((f"{di}/METADATA", ("\n".join(lines) + "\n").encode("utf-8")))
    meta_files.append((f"{di}/WHEEL", (
        "Wheel-Version: 1.0\n"
        f"Generator: {GENERATOR}\n"
        "Root-Is-Purelib: true\n"
        "Tag: py3-none-any\n").encode("ascii")))
    meta_files.append((f"{di}/top_level.txt", ("\n".join(sorted(tops)) + "\n").encode("ascii")))
    meta_files.extend(licenses)

    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    tmp = os.path.join(outdir, whl_name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for arc, p in files:
            with open(p, "rb") as fh:
                data = fh.read()
            zf.writestr(zinfo(arc, os.lstat(p).st_mtime), data, compresslevel=9)
            writer.writerow([arc, "sha256=" + b64(hashlib.sha256(data).digest()), len(data)])
        for arc, data in meta_files:
            zf.writestr(zinfo(arc, newest), data, compresslevel=9)
            writer.writerow([arc, "sha256=" + b64(hashlib.sha256(data).digest()), len(data)])
        writer.writerow([f"{di}/RECORD", "", ""])
        zf.writestr(zinfo(f"{di}/RECORD", newest), record.getvalue().encode("utf-8"), compresslevel=9)
    final = os.path.join(outdir, whl_name)
    os.replace(tmp, final)
    with open(final, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    log(f"built {whl_name} ({os.path.getsize(final)} bytes): imports {', '.join(sorted(tops))}")
    return {
        "name": norm,
        "version": version,
        "file": whl_name,
        "sha256": digest,
        "size": os.path.getsize(final),
        "imports": sorted(tops),
        "depends": depends,
        "debian": {"package": deb_pkg, "version": deb_ver, "source": deb_src},
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--lock", required=True)
    ap.add_argument("specs", nargs="*")
    args = ap.parse_args()

    stage = tempfile.mkdtemp(prefix="isobox-wheels-")
    entries, failed = [], []
    try:
        for spec in args.specs:
            try:
                entries.append(build_one(spec, stage))
            except Exception as exc:  # keep going with the others
                log(f"ERROR: {spec.split('|')[0]}: {exc}")
                failed.append(spec.split("|")[0])
        if not entries:
            log("no wheel was built; leaving the output directory untouched")
            return 1
        built = {e["name"] for e in entries}
        for e in entries:
            missing = [d for d in e["depends"] if d not in built]
            if missing:
                log(f"WARNING: {e['name']} depends on {missing}, which were not built")
        os.makedirs(args.out, exist_ok=True)
        for f in os.listdir(args.out):
            if f.endswith(".whl"):
                os.remove(os.path.join(args.out, f))
        for e in entries:
            shutil.move(os.path.join(stage, e["file"]), os.path.join(args.out, e["file"]))
        entries.sort(key=lambda e: e["name"])
        lock = {
            "generator": GENERATOR,
            "tag": "py3-none-any",
            "dist": os.path.basename(os.path.normpath(args.out)),
            "wheels": entries,
        }
        tmp = args.lock + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(lock, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, args.lock)
        log(f"{len(entries)} wheel(s) in {args.out}, lock {args.lock}"
            + (f"; failed: {', '.join(failed)}" if failed else ""))
        return 0
    finally:
        shutil.rmtree(stage, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
