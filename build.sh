#!/usr/bin/env bash
# Builds the Go core into python/bigdl/_lib/ so a checkout works with PYTHONPATH=python,
# without installing the package. It runs build_native.py, the same build that wheels get
# (zig targeting glibc 2.17 when $PYTHON has `ziglang`, else the system cc; see that file).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-$(if [ -x .venv/bin/python ]; then echo .venv/bin/python; else echo python3; fi)}"
exec "$PYTHON" build_native.py python/bigdl/_lib
