"""The runtime around the Go library: importing loads nothing and is fast, a process may
fork before first use (as PySpark's worker daemon does), and a Go panic — in a call, in a
layer, or in the training goroutine — becomes a Python exception, never a crash.

Everything here runs in fresh child interpreters, so a crash fails one test and no more.
"""
import json
import os
import textwrap

import pytest

from conftest import child_env

IMPORTS = "import bigdl, bigdl.nn.layer, bigdl.nn.criterion, bigdl.optim.optimizer, bigdl.util.common"


def _last_json(r):
    assert r.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


# Lazy loading -------------------------------------------------------------------------------

def test_import_does_not_load_the_library_or_heavy_modules(run_python):
    # Importing must stay cheap: no Go runtime started (it cannot survive a fork, and Spark forks
    # Python workers) and none of the optional heavy packages pulled in. Checked by what gets
    # loaded, not by a stopwatch, so a busy machine cannot fail it.
    code = textwrap.dedent("""
        import json, sys
        %s
        from bigdl.nn.layer import *
        from bigdl.nn.criterion import *
        from bigdl.optim.optimizer import *
        from bigdl.util.common import *
        import bigdl._native
        heavy = sorted(m for m in ("pyspark", "py4j", "torch", "sklearn", "scipy", "pandas") if m in sys.modules)
        print(json.dumps({"loaded": bigdl._native.is_loaded(), "heavy": heavy}))
        """) % IMPORTS
    out = _last_json(run_python(code, timeout=30))
    assert out == {"loaded": False, "heavy": []}, out


def test_data_objects_do_not_load_the_library(run_python):
    # Spark workers build and unpickle Samples; triggers and validation methods are plain specs.
    code = textwrap.dedent("""
        import json, pickle
        import numpy as np
        from bigdl.util.common import Sample, JTensor, EvaluatedResult, to_list, DOUBLEMAX
        from bigdl.optim.optimizer import MaxEpoch, EveryEpoch, Top1Accuracy, TriggerAnd, MaxIteration
        import bigdl._native as native
        s = pickle.loads(pickle.dumps(Sample.from_ndarray(np.arange(3.0), 1)))
        JTensor.from_ndarray(np.ones((2, 2))).to_ndarray()
        TriggerAnd(MaxEpoch(2), MaxIteration(5)); EveryEpoch(); Top1Accuracy()
        str(EvaluatedResult(0.5, 2, "Top1Accuracy"))
        print(json.dumps({"loaded": native.is_loaded()}))
        """)
    assert _last_json(run_python(code, timeout=30))["loaded"] is False


def test_first_use_loads_the_library(run_python):
    code = textwrap.dedent("""
        import json
        import bigdl._native as native
        from bigdl.nn.layer import Linear
        before = native.is_loaded()
        Linear(2, 2)
        print(json.dumps({"before": before, "after": native.is_loaded()}))
        """)
    assert _last_json(run_python(code, timeout=30)) == {"before": False, "after": True}


def test_missing_library_fails_at_first_use_not_import(run_python, tmp_path):
    missing = tmp_path / "nowhere" / "libbigdl.so"
    code = textwrap.dedent("""
        import json
        %s
        from bigdl.nn.layer import Linear
        try:
            Linear(2, 2)
            out = {"error": None}
        except ImportError as e:
            out = {"error": str(e)}
        print(json.dumps(out))
        """) % IMPORTS
    r = run_python(code, timeout=30, env=child_env(BIGDL_GO_LIBRARY=str(missing)))
    err = _last_json(r)["error"]
    assert err and str(missing) in err, err


# Kernel sets --------------------------------------------------------------------------------

_KERNELS_CODE = textwrap.dedent("""
    import json, logging
    records = []
    class Keep(logging.Handler):
        def emit(self, record):
            records.append((record.levelname, record.getMessage()))
    logging.getLogger("bigdl").addHandler(Keep())
    import bigdl._native as native
    from bigdl.nn.layer import Linear
    Linear(2, 2); Linear(2, 2)
    print(json.dumps({"records": records, "kernels": native.call(0, "info")[0]["kernels"]}))
    """)


@pytest.mark.parametrize("request_", ["avx9000", "generic"])
def test_bigdl_kernels_that_cannot_be_followed_warn_once(run_python, request_):
    # A set this build lacks (or, on a CPU without it, one it cannot run) falls back to the best
    # set and says so once through the `bigdl` logger; a set that runs is followed in silence.
    r = run_python(_KERNELS_CODE, timeout=30, env=child_env(BIGDL_KERNELS=request_))
    out = _last_json(r)
    if request_ == "generic":
        assert out["records"] == [] and out["kernels"].startswith("generic"), out
        return
    assert len(out["records"]) == 1, out
    level, message = out["records"][0]
    assert level == "WARNING" and "BIGDL_KERNELS=avx9000" in message and "no kernel set" in message, message
    assert "BIGDL_KERNELS=avx9000 is not available here" in out["kernels"], out


# Fork ---------------------------------------------------------------------------------------

_FORK_PRELUDE = """
import json, os, sys, traceback
import numpy as np
import bigdl._native as native
from bigdl.nn.layer import Sequential, Linear, LogSoftMax
from bigdl.nn.criterion import ClassNLLCriterion
from bigdl.optim.optimizer import Optimizer, MaxIteration, SGD

def use_bigdl():
    X = np.random.RandomState(0).randn(32, 3).astype("float32"); y = (X[:, 0] > 0) + 1.0
    m = Sequential().add(Linear(3, 2)).add(LogSoftMax())
    Optimizer(m, (X, y), ClassNLLCriterion(), MaxIteration(4), 8, SGD(0.1)).optimize()
    out = m.predict(X)
    assert out.shape == (32, 2) and np.isfinite(out).all()
    return m
"""


def test_fork_before_first_use_child_works(run_python):
    code = _FORK_PRELUDE + textwrap.dedent("""
        assert not native.is_loaded()
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                use_bigdl()
                code = 0 if native.is_loaded() else 4
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        child = os.waitstatus_to_exitcode(status)
        use_bigdl()  # the parent loads it afterwards and works too
        print(json.dumps({"child": child, "parent_loaded": native.is_loaded()}))
        """)
    out = _last_json(run_python(code, timeout=60))
    assert out == {"child": 0, "parent_loaded": True}, out


def test_several_forked_children_each_load_their_own(run_python):
    code = _FORK_PRELUDE + textwrap.dedent("""
        pids = []
        for i in range(3):
            pid = os.fork()
            if pid == 0:
                code = 3
                try:
                    use_bigdl(); code = 0
                except BaseException:
                    traceback.print_exc()
                finally:
                    os._exit(code)
            pids.append(pid)
        codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]
        print(json.dumps({"children": codes}))
        """)
    assert _last_json(run_python(code, timeout=60)) == {"children": [0, 0, 0]}


def test_fork_after_loading_gives_a_clear_error_in_the_child(run_python):
    code = _FORK_PRELUDE + textwrap.dedent("""
        m = use_bigdl()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            res = {}
            for what, fn in [("new", lambda: Linear(2, 2)), ("old", lambda: m.predict(np.ones((1, 3))))]:
                try:
                    fn(); res[what] = None
                except native.BigDLError as e:
                    res[what] = str(e)
                except BaseException as e:
                    res[what] = "WRONG TYPE %s: %s" % (type(e).__name__, e)
            os.write(w, json.dumps(res).encode()); os._exit(0)
        os.close(w)
        data = b""
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
        child = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        use_bigdl()  # the parent is unaffected
        print(json.dumps({"child": child, "errors": json.loads(data.decode())}))
        """)
    out = _last_json(run_python(code, timeout=60))
    assert out["child"] == 0
    for what, msg in out["errors"].items():
        assert msg and "fork" in msg and not msg.startswith("WRONG TYPE"), (what, msg)


# Panics -------------------------------------------------------------------------------------

def test_library_panic_becomes_bigdl_error(run_python):
    code = textwrap.dedent("""
        import json
        import numpy as np
        import bigdl._native as native
        from bigdl.nn.layer import Linear
        errors = []
        for _ in range(3):
            try:
                native.call(0, "panic_for_test")
                errors.append(None)
            except native.BigDLError as e:
                errors.append([type(e).__name__, isinstance(e, RuntimeError), str(e)])
        out = Linear(3, 2).forward(np.ones(3))
        print(json.dumps({"errors": errors, "after": out.shape[0]}))
        """)
    out = _last_json(run_python(code, timeout=30))
    assert all(e is not None for e in out["errors"]), out
    for name, is_runtime, msg in out["errors"]:
        assert name == "BigDLError" and is_runtime and msg
    assert out["after"] == 2


def test_panic_in_a_layer_forward_becomes_bigdl_error(run_python):
    code = textwrap.dedent("""
        import json
        import numpy as np
        import bigdl._native as native
        from bigdl.nn.layer import Layer, Linear, Sequential, LogSoftMax
        x = np.ones((2, 3), dtype=np.float32)
        res = {}
        # through the Layer wrapper
        panicky = Layer.of(native.new("_PanicForTest", {"after_calls": 2}))
        res["ok_calls"] = [panicky.forward(x).tolist() == x.tolist() for _ in range(2)]
        try:
            panicky.forward(x); res["wrapper"] = None
        except native.BigDLError as e:
            res["wrapper"] = str(e)
        # through the raw call
        h = native.new("_PanicForTest", {"after_calls": 0})
        try:
            native.call(h, "forward", tensors=[x]); res["raw"] = None
        except native.BigDLError as e:
            res["raw"] = str(e)
        # the process keeps working
        m = Sequential().add(Linear(3, 2)).add(LogSoftMax())
        res["after"] = list(m.forward(x).shape)
        res["str"] = str(panicky)
        print(json.dumps(res))
        """)
    out = _last_json(run_python(code, timeout=30))
    assert out["ok_calls"] == [True, True]
    assert out["wrapper"] and out["raw"], out
    assert out["after"] == [2, 2]


_TRAINING_PANIC = textwrap.dedent("""
    import json
    import numpy as np
    import bigdl._native as native
    from bigdl.nn.layer import Sequential, Linear, LogSoftMax
    from bigdl.nn.criterion import ClassNLLCriterion
    from bigdl.optim.optimizer import Optimizer, MaxEpoch, MaxIteration, SGD
    rs = np.random.RandomState(0)
    X = rs.randn(64, 5).astype("float32"); y = (X[:, 0] > 0) + 1.0
    seq = Sequential().add(Linear(5, 2))
    seq._call("add", {"child": native.new("_PanicForTest", {"after_calls": 5})})
    seq.add(LogSoftMax())
    res = {}
    try:
        ret = Optimizer(seq, (X, y), ClassNLLCriterion(), MaxEpoch(5), 8, SGD(0.1)).optimize()
        res["error"] = None
    except BaseException as e:
        res["error"] = [type(e).__name__, isinstance(e, RuntimeError), isinstance(e, native.BigDLError), str(e)]
    # the model is still there and readable
    res["layers"] = [type(l).__name__ for l in seq.layers]
    res["weights_finite"] = all(bool(np.isfinite(w).all()) for w in seq.get_weights())
    res["linear_forward"] = list(seq.layers[0].forward(X).shape)
    res["str"] = "Sequential" in str(seq)
    # the library and the training machinery still work
    fresh = Sequential().add(Linear(5, 2)).add(LogSoftMax())
    Optimizer(fresh, (X, y), ClassNLLCriterion(), MaxIteration(3), 8).optimize()
    res["fresh_predict"] = list(fresh.predict(X).shape)
    print(json.dumps(res))
    """)


@pytest.fixture(scope="module")
def training_panic():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", _TRAINING_PANIC], env=child_env(), capture_output=True, text=True,
                       timeout=60)
    return _last_json(r)


def test_panic_in_training_goroutine_raises_and_model_stays_usable(training_panic):
    out = training_panic
    assert out["error"] is not None, "optimize() returned although a layer panicked"
    assert out["error"][3], out
    assert len(out["layers"]) == 3 and out["layers"][0] == "Linear" and out["layers"][2] == "LogSoftMax", out
    assert out["weights_finite"] and out["linear_forward"] == [64, 2] and out["str"]
    assert out["fresh_predict"] == [64, 2]


def test_panic_in_training_goroutine_is_a_bigdl_error(training_panic):
    # bigdl.h: a recovered Go panic is BIGDL_ERR_INTERNAL, raised as BigDLError (a RuntimeError),
    # the same as a panic in a direct forward call; ValueError means bad input from the caller.
    name, is_runtime, is_bigdl, msg = training_panic["error"]
    assert is_bigdl and is_runtime, "a Go runtime panic in training surfaced as %s: %s" % (name, msg)
    assert "index out of range" in msg, msg
