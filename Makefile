# Developer entry points. CI calls `make test PYTHON=.venv/bin/python` (see .ci/run).

# The kernels use simd/archsimd, which Go 1.26 gates behind this experiment; every go command needs it.
export GOEXPERIMENT := simd
export CGO_ENABLED := 1

GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)
# Absolute form for recipes that cd elsewhere; a bare command name (python3) is left to PATH.
PY := $(if $(findstring /,$(PYTHON)),$(abspath $(PYTHON)),$(PYTHON))

.PHONY: build test demo bench wheel venv clean

build:
	GO=$(GO) PYTHON=$(PY) bash build.sh

test: build
	$(GO) test ./...
	PYTHONPATH=python $(PY) -m pytest -q tests

demo: build
	cd examples && PYTHONPATH=../python $(PY) lecture_logistic.py
	cd examples && PYTHONPATH=../python $(PY) lecture_feedforward.py

# Ratios against numpy/OpenBLAS and (when importable) PyTorch, run side by side; see BENCHMARKS.md.
bench: build
	$(PY) -m pip install --quiet threadpoolctl
	$(GO) test -run '^$$' -bench . -benchtime 1s ./core/kernels ./core/optim
	$(PY) bench/run.py
	GO=$(GO) $(PY) bench/spark_bench.py

# BIGDL_GO_CC=zig: a release wheel must be manylinux2014, so a missing zig fails the build instead of
# quietly falling back to the system cc. pip builds in isolation, fetching ziglang per pyproject.toml.
wheel:
	BIGDL_GO_CC=zig GO=$(GO) $(PY) -m pip wheel . -w dist --no-deps

venv:
	python3 -m venv .venv
	.venv/bin/python -m pip install --upgrade numpy pytest wheel setuptools pyspark

clean:
	rm -rf python/bigdl/_lib build dist python/*.egg-info .pytest_cache
