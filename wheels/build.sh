#!/usr/bin/env bash
# Build offline pure-Python wheels (py3-none-any) for isobox's Pyodide runtime
# from Debian bookworm's python3-* packages. Run as root on Debian:
#   bash wheels/build.sh
# Output: wheels/dist/*.whl and wheels/wheels.lock.json (both replaced as a
# whole on success). Idempotent: a re-run rebuilds the same files (timestamps
# come from the .deb, so the wheels are byte-for-byte reproducible as long as
# Debian ships the same package versions).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/dist"
LOCK="$HERE/wheels.lock.json"
PY="${PYTHON:-python3}"

# debian-package | top-level names to leave out | wheels (normalized names) it needs
PACKAGES=(
  "python3-six||"
  "python3-dateutil||six"
  "python3-attr||"
  "python3-tabulate||"
  "python3-yaml|_yaml|"                  # _yaml/ is only a shim for the libyaml C extension
  "python3-markupsafe||"                 # _speedups*.so dropped; pure _native fallback stays
  "python3-jinja2||markupsafe"
  "python3-idna||"
  "python3-charset-normalizer||"
  "python3-packaging||"
  "python3-more-itertools||"
  "python3-toolz||"
  "python3-simplejson||"                 # _speedups*.so dropped; pure fallback stays
  "python3-xmltodict||"
  "python3-pyrsistent|pvectorc|"         # pvectorc*.so dropped; pure PVector stays
  "python3-jsonschema||attrs,pyrsistent" # 4.10.x: attrs + pyrsistent, no rpds-py
)
# Left out on purpose (see README.md): python3-tz (Debian strips the zoneinfo
# data; import fails without /usr/share/zoneinfo), python3-certifi (where()
# points at /etc/ssl/certs; and there is no network in the isolate),
# python3-typing-extensions (bookworm's 4.4.0 fails to import on Python >= 3.12:
# "type 'typing.TypeVar' is not an acceptable base type").

for tool in apt-get apt-cache dpkg-deb "$PY"; do
  command -v "$tool" >/dev/null || { echo "build.sh: '$tool' not found (needs Debian + python3)" >&2; exit 1; }
done

# apt needs package lists; run apt-get update once if they are missing.
if ! apt-cache show python3-six >/dev/null 2>&1; then
  echo "build.sh: apt package lists missing, running apt-get update" >&2
  apt-get update -q >&2
fi

WORK="$(mktemp -d -t isobox-wheels.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/debs"

SPECS=()
FAILED=()
for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r deb excludes depends <<<"$entry"
  echo "== $deb" >&2
  if ! (cd "$WORK/debs" && apt-get download -q -o APT::Sandbox::User=root "$deb" >&2); then
    echo "build.sh: WARNING: 'apt-get download $deb' failed; skipping it" >&2
    FAILED+=("$deb")
    continue
  fi
  file="$(ls -1 "$WORK/debs/${deb}_"*.deb 2>/dev/null | head -n1 || true)"
  if [[ -z "$file" ]]; then
    echo "build.sh: WARNING: no .deb for $deb after download; skipping it" >&2
    FAILED+=("$deb")
    continue
  fi
  root="$WORK/root/$deb"
  mkdir -p "$root"
  if ! dpkg-deb -x "$file" "$root"; then
    echo "build.sh: WARNING: could not extract $file; skipping it" >&2
    FAILED+=("$deb")
    continue
  fi
  SPECS+=("$file|$root|$excludes|$depends")
done

if [[ ${#SPECS[@]} -eq 0 ]]; then
  echo "build.sh: ERROR: no package could be downloaded; nothing built" >&2
  exit 1
fi

# make_wheel.py exits non-zero only if no wheel at all was built.
"$PY" "$HERE/make_wheel.py" --out "$OUT" --lock "$LOCK" "${SPECS[@]}"

if [[ ${#FAILED[@]} -gt 0 ]]; then
  echo "build.sh: WARNING: not built (download/extract failed): ${FAILED[*]}" >&2
fi
echo "build.sh: done: $(ls -1 "$OUT"/*.whl | wc -l) wheel(s) in $OUT" >&2
