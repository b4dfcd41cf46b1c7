# shellcheck shell=bash
# Shared by scripts/setup, scripts/test, scripts/lint and scripts/develop (sourced, not run).
# Finds a Python >= 3.13 (PYTHON, then PATH, then pyenv's versions folder), creates the venv in
# VENV (default .venv) and installs the pinned set for that Python minor with uv. A second run with
# nothing changed only compares a hash of the requirement files and returns.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-.venv}
case "$VENV" in /*) ;; *) VENV="$ROOT/$VENV" ;; esac

_py_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; }

find_python() {
  if [ -n "${PYTHON:-}" ]; then
    command -v "$PYTHON" >/dev/null || { echo "PYTHON=$PYTHON not found" >&2; return 1; }
    _py_ok "$PYTHON" || { echo "PYTHON=$PYTHON is older than 3.13" >&2; return 1; }
    command -v "$PYTHON"; return 0
  fi
  local c
  for c in python3.14 python3.13 python3 python; do
    if command -v "$c" >/dev/null && _py_ok "$c"; then command -v "$c"; return 0; fi
  done
  local root
  root=$( (command -v pyenv >/dev/null && pyenv root) || echo "$HOME/.pyenv")
  for c in $(ls -d "$root"/versions/3.1[3-9]*/bin/python3 2>/dev/null | sort -rV); do
    if _py_ok "$c"; then echo "$c"; return 0; fi
  done
  echo "no Python >= 3.13 found (set PYTHON)" >&2
  return 1
}

ensure_venv() {
  local py minor req stamp want
  py=$(find_python)
  minor=$("$py" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
  req="$ROOT/requirements/py$minor.txt"
  [ -f "$req" ] || { echo "no pinned set for Python $minor ($req)" >&2; return 1; }
  want=$({ echo "$py $minor ${EXTRA_REQUIREMENTS[*]}"; cat "$ROOT"/requirements/*.txt; } | sha256sum | cut -d' ' -f1)
  stamp="$VENV/.whatwatt-requirements"
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "bootstrapping $VENV with $py ($req)" >&2
  [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
  [ -x "$VENV/bin/uv" ] || "$VENV/bin/python" -m pip install -q --disable-pip-version-check uv
  "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" --compile-bytecode -r "$req" "${EXTRA_REQUIREMENTS[@]}"
  echo "$want" > "$stamp"
}
EXTRA_REQUIREMENTS=()
