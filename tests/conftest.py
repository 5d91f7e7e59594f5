"""Shared helpers for the test suite.

The lecture scripts are the project's copies in examples/ (a user's clone has nothing beside
it). Tests that need a fresh interpreter (lazy loading, fork, panics, Ctrl-C, the lecture
scripts) run Python in a subprocess, always with a timeout, so nothing can hang the suite.
With CI=true, a skip fails unless the CPU lacks a kernel set (tests/_ci.py).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
PYTHON_DIR = REPO / "python"
LECTURE_DIR = REPO / "examples"

if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))

import _machine  # noqa: E402
from _ci import pytest_make_collect_report, pytest_runtest_makereport  # noqa: E402,F401  (hooks)


def pytest_report_header(config):
    return _machine.describe()


def child_env(**extra):
    """The environment for a child interpreter: this checkout's python/ on the path, no
    bytecode written into shared directories, no Spark for the lecture scripts."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LECTURE_SPARK", "PYTHONHOME")}
    env["PYTHONPATH"] = str(PYTHON_DIR)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _run_python(code=None, script=None, timeout=30, cwd=None, env=None):
    """Runs `python -c code` (or `python script`) and returns the CompletedProcess.
    subprocess.run kills the child if the timeout expires; the test then fails with the end of
    what the child wrote, which is all there is to tell where it hung."""
    argv = [sys.executable, "-c", code] if code is not None else [sys.executable, str(script)]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              cwd=str(cwd) if cwd else None, env=env or child_env())
    except subprocess.TimeoutExpired as e:
        def tail(b):
            return (b.decode("utf-8", "replace") if isinstance(b, bytes) else b or "")[-6000:]
        pytest.fail("%s timed out after %s s\n--- stdout (end)\n%s\n--- stderr (end)\n%s"
                    % (argv[-1] if script else "python -c", timeout, tail(e.stdout), tail(e.stderr)))


@pytest.fixture
def run_python():
    """run_python(code=..., timeout=..., cwd=..., env=...) -> CompletedProcess."""
    return _run_python


def make_blobs(n=64, num_features=5, seed=0):
    """Two linearly separable classes; labels are 1-based floats (BigDL's convention)."""
    rs = np.random.RandomState(seed)
    X = rs.randn(n, num_features).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.float32) + 1.0
    return X, y


@pytest.fixture
def blobs():
    return make_blobs()


@pytest.fixture
def samples(blobs):
    from bigdl.util.common import Sample
    X, y = blobs
    return [Sample.from_ndarray(x, label) for x, label in zip(X, y)]


@pytest.fixture
def logistic_model():
    """A factory for the lecture's first network: Linear(n, 2) + LogSoftMax."""
    from bigdl.nn.layer import Linear, LogSoftMax, Sequential

    def make(num_features=5, num_classes=2):
        return Sequential().add(Linear(num_features, num_classes)).add(LogSoftMax())
    return make


def example_accuracy(script, args, total, env=None, timeout=300):
    """Runs examples/script with args as its __main__ and returns the Top1Accuracy it prints
    for total records (the test fails with the child's output if it fails or prints none)."""
    code = ("import runpy, sys; sys.argv = [%r] + %r; runpy.run_path(%r, run_name='__main__')"
            % (script, [str(a) for a in args], script))
    p = _run_python(code, cwd=LECTURE_DIR, timeout=timeout, env=env)
    assert p.returncode == 0, "%s: %s" % (script, p.stderr[-3000:])
    acc = re.search(r"Evaluated result: ([0-9.]+), total_num: %d, method: Top1Accuracy" % total, p.stdout)
    assert acc, "%s printed no accuracy over %d records: %s" % (script, total, p.stdout[-2000:])
    return float(acc.group(1)), p
