#!/usr/bin/env bash
# Builds the Go core into python/bigdl/_lib/ so a checkout works with PYTHONPATH=python,
# without installing the package. Wheels build the same library via setup.py.
set -euo pipefail
cd "$(dirname "$0")"

GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
if [ ! -x "$GO" ]; then
    echo "build.sh: the Go toolchain (go 1.26+) is needed but was not found; put it on PATH or set GO=" >&2
    exit 1
fi

# The kernels use simd/archsimd, which Go 1.26 gates behind this experiment.
export GOEXPERIMENT=simd CGO_ENABLED=1
mkdir -p python/bigdl/_lib
"$GO" build -buildmode=c-shared -trimpath -buildvcs=false -o python/bigdl/_lib/libbigdl.so ./capi
echo "built python/bigdl/_lib/libbigdl.so"
