# Developer entry points. `make demo` and `make test` are the whole set-up: each creates .venv/
# and installs what it needs the first time (a stamp file per requirements list, so a second run
# installs nothing). CI runs exactly these two (see .ci/run).

# The kernels use simd/archsimd, which Go 1.26 gates behind this experiment; every go command needs it.
export GOEXPERIMENT := simd
export CGO_ENABLED := 1

GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
# The interpreter that creates .venv/; everything else runs in the venv.
BOOTSTRAP_PYTHON ?= python3
VENV := .venv
PY := $(abspath $(VENV))/bin/python
PIP := $(PY) -m pip install --disable-pip-version-check
RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test

.PHONY: build test demo bench wheel venv clean fuzz figures

# build_native.py links with zig (glibc 2.17, as the wheel) when the venv has ziglang (make test
# installs it), else with the system cc: either library serves this checkout.
build: | $(PY)
	GO=$(GO) PYTHON=$(PY) bash build.sh

$(PY):
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(PIP) --quiet --upgrade pip

# The run-time dependencies are the package's own (requirements.txt, read by setup.py).
$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PIP) --quiet -r requirements.txt
	touch $@

$(TEST_STAMP): tests/requirements.txt requirements.txt | $(PY)
	@echo "Installing the test requirements (tests/requirements.txt) into $(VENV)/."
	@echo "The first time this downloads about 5 GB, most of it PyTorch (a CUDA build that runs on CPU)."
	$(PIP) --progress-bar off -r tests/requirements.txt
	touch $@

venv: $(RUNTIME_STAMP) $(TEST_STAMP)

demo: build $(RUNTIME_STAMP)
	cd examples && PYTHONPATH=../python $(PY) lecture_logistic.py
	cd examples && PYTHONPATH=../python $(PY) lecture_feedforward.py

# The plain run keeps the timing-free checks of optimised code (allocations, codegen); the race
# run checks every goroutine of core/ and capi/ under the race detector; each reader of files a
# user hands us is fuzzed for a minute (a failing input lands in testdata/fuzz: keep it).
test: build $(TEST_STAMP)
	$(PY) tests/_machine.py
	$(GO) test ./...
	$(GO) test -race ./...
	$(MAKE) fuzz
	PYTHONPATH=python $(PY) -m pytest -q --durations=20 tests

# The file readers under the fuzzer, a minute each (FUZZTIME=10s for a quick look), as
# package:target pairs; an input that fails is kept in the package's testdata/fuzz and replayed by
# every later go test.
FUZZTIME ?= 1m
FUZZ_TARGETS = serial:FuzzModelFile serial:FuzzMethodFile serial:FuzzCheckpointDir summary:FuzzParse
fuzz:
	for t in $(FUZZ_TARGETS); do \
		$(GO) test ./core/$${t%%:*} -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s || exit 1; \
	done

# Ratios against numpy/OpenBLAS and PyTorch, run side by side; see BENCHMARKS.md.
bench: build $(TEST_STAMP)
	$(PIP) --quiet threadpoolctl
	$(GO) test -run '^$$' -bench . -benchtime 1s ./core/kernels ./core/optim
	$(PY) bench/run.py
	GO=$(GO) $(PY) bench/lenet_bench.py
	$(PY) bench/lstm_bench.py
	GO=$(GO) $(PY) bench/spark_bench.py

# The README's picture is the figure examples/training.ipynb draws: this runs the notebook in a Jupyter
# kernel (as the tests do, tests/_notebooks.py) and keeps the PNG of its cell tagged `figure`.
figures: build $(TEST_STAMP)
	$(PY) tests/_notebooks.py --figure docs/training_curves.png examples/training.ipynb

# BIGDL_GO_CC=zig: a release wheel must be manylinux2014, so a missing zig fails the build instead of
# quietly falling back to the system cc. pip builds in isolation, fetching ziglang per pyproject.toml.
wheel: | $(PY)
	BIGDL_GO_CC=zig GO=$(GO) $(PY) -m pip wheel . -w dist --no-deps

clean:
	rm -rf python/bigdl/_lib build dist python/*.egg-info .pytest_cache
