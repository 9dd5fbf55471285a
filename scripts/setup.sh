#!/usr/bin/env bash
# Create .venv and install newsearch with pinned, hash-checked dependencies.
# Usage: scripts/setup.sh [requirements.lock|requirements-test.lock]
set -euo pipefail
cd "$(dirname "$0")/.."
lock="${1:-requirements.lock}"
python="${PYTHON:-python3}"
pip_version="26.3"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x .venv/bin/pip ]; then
  rm -rf .venv
  if ! "$python" -m venv .venv 2>/dev/null; then
    # Debian ships venv's pip bootstrap separately.
    echo "Installing python3-venv (Debian) ..." >&2
    rm -rf .venv
    as_root apt-get update -qq
    as_root apt-get install -y -qq python3-venv
    "$python" -m venv .venv
  fi
fi
# The pip that a new venv brings (23.x) cannot resolve trafilatura's lxml extra.
.venv/bin/python -m pip install -q --disable-pip-version-check "pip==${pip_version}"
.venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
# setuptools warns at length about editable installs; show its output only if it fails.
if ! .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps \
    --no-build-isolation -e . > .venv/install.log 2>&1; then
  cat .venv/install.log >&2
  exit 1
fi
