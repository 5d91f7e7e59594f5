"""Saved models (saveModel / Model.loadModel), optim methods (OptimMethod.save / load) and
checkpoints: round trips, exact resumption, and files that are not what they should be."""
import os
import struct

import numpy as np
import pytest

from bigdl.nn.layer import Dropout, Layer, Linear, LogSoftMax, Model, ReLU, Sequential


def small_model():
    return Sequential().add(Linear(4, 6)).add(ReLU()).add(Linear(6, 3)).add(LogSoftMax())


def predictions(model, seed=0):
    x = np.random.RandomState(seed).randn(7, 4).astype(np.float32)
    return model.evaluate().forward(x)


# Saved models ----------------------------------------------------------------------------

def test_save_model_in_two_files_needs_both(tmp_path):
    model = small_model()
    path, weights = str(tmp_path / "m.model"), str(tmp_path / "m.weights")
    model.saveModel(path, weights)
    np.testing.assert_array_equal(predictions(Model.loadModel(path, weights)), predictions(model))
    with pytest.raises(OSError, match="weight_path") as e:
        Model.loadModel(path)
    assert path in str(e.value)
    with pytest.raises(OSError, match="weight file, not a bigdl-go model") as e:
        Model.loadModel(weights)
    assert weights in str(e.value)


def test_weights_of_another_model_are_refused(tmp_path):
    path, weights = str(tmp_path / "m.model"), str(tmp_path / "other.weights")
    small_model().saveModel(path, str(tmp_path / "m.weights"))
    Sequential().add(Linear(4, 5)).add(Linear(5, 3)).saveModel(str(tmp_path / "o.model"), weights)
    with pytest.raises(OSError, match="shape") as e:
        Model.loadModel(path, weights)
    assert weights in str(e.value)


@pytest.mark.parametrize("split", [False, True])
def test_save_model_without_over_write_leaves_files_untouched(tmp_path, split):
    path, weights = tmp_path / "m.model", tmp_path / "m.weights"
    first = small_model()
    first.saveModel(str(path), str(weights) if split else None)
    before = {p: p.read_bytes() for p in (path, weights) if p.exists()}
    with pytest.raises(OSError, match="over_write") as e:
        small_model().saveModel(str(path), str(weights) if split else None)
    assert str(path) in str(e.value)
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in before)  # no temporary file left
    other = small_model()
    other.saveModel(str(path), str(weights) if split else None, over_write=True)
    loaded = Model.loadModel(str(path), str(weights) if split else None)
    np.testing.assert_array_equal(predictions(loaded), predictions(other))


def java_serialised():
    # The stream header of java.io.ObjectOutputStream, as BigDL's Module.save writes.
    return b"\xac\xed\x00\x05sr\x00\x2bcom.intel.analytics.bigdl.nn.Sequential" + bytes(64)


def bigdl_protobuf():
    # A BigDLModule message: name (field 1) and moduleType (field 7), as BigDL's saveModel writes.
    def field(number, payload):
        return bytes([number << 3 | 2, len(payload)]) + payload
    return field(1, b"Sequential123") + field(7, b"com.intel.analytics.bigdl.nn.Sequential") + field(9, b"0.4.0")


@pytest.mark.parametrize("content,what", [
    (java_serialised(), "Java-serialised"),
    (bigdl_protobuf(), "BigDL protobuf"),
    (b"\x0a\x03abc" + b"not protobuf at all" * 3, "not a bigdl-go file"),
    (b"", "empty"),
])
def test_foreign_model_files_say_what_they_are(tmp_path, content, what):
    p = tmp_path / "foreign.model"
    p.write_bytes(content)
    for load in (lambda: Model.loadModel(str(p)), lambda: Layer.load(str(p))):
        with pytest.raises(OSError, match=what) as e:
            load()
        assert str(p) in str(e.value)


def test_truncated_model_file_is_refused(tmp_path):
    path = tmp_path / "m.model"
    small_model().saveModel(str(path))
    data = path.read_bytes()
    for cut in (len(data) - 1, len(data) // 2, 9, 3):
        bad = tmp_path / ("cut%d" % cut)
        bad.write_bytes(data[:cut])
        with pytest.raises(OSError) as e:
            Model.loadModel(str(bad))
        assert str(bad) in str(e.value)


def test_model_path_must_be_a_path():
    with pytest.raises(ValueError, match="modelPath"):
        small_model().saveModel(None)
    with pytest.raises(ValueError, match="weightPath"):
        Model.loadModel("m.model", 3)


# Optim methods ---------------------------------------------------------------------------

TRAIN_SCRIPT = r"""
import sys, numpy as np
from bigdl.nn.layer import *
from bigdl.nn.criterion import ClassNLLCriterion
from bigdl.optim.optimizer import *
from bigdl.util.common import RNG

method_src, iterations, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
resume = sys.argv[4] if len(sys.argv) > 4 else None
rs = np.random.RandomState(0)
X = rs.randn(45, 6).astype(np.float32)
Y = rs.randint(1, 4, size=45).astype(np.float32)
if resume:
    RNG().set_seed(1234)  # a fresh process's generator, unlike the saved run's
    model = Model.loadModel(resume + ".model")
    method = OptimMethod.load(resume + ".method")
else:
    RNG().set_seed(5)
    model = Sequential().add(Linear(6, 16)).add(ReLU()).add(Dropout(0.3)).add(Linear(16, 3)).add(LogSoftMax())
    method = eval(method_src)
opt = Optimizer(model=model, training_rdd=(X, Y), criterion=ClassNLLCriterion(),
                end_trigger=MaxIteration(iterations), batch_size=8, optim_method=method)
opt.optimize()
np.save(out + ".npy", np.concatenate([w.ravel() for w in model.get_weights()]))
model.saveModel(out + ".model", over_write=True)
method.save(out + ".method", overWrite=True)
"""

METHODS = ["SGD(learningrate=0.1, momentum=0.9, learningrate_decay=0.01)",
           "SGD(learningrate=0.1, leaningrate_schedule=Plateau('Loss', factor=0.5, patience=1))",
           "Adam(learningrate=0.01)", "Adagrad(learningrate=0.1)", "RMSprop()", "Adadelta()", "Adamax()",
           "Ftrl(learningrate=0.1)", "LBFGS(ncorrection=4, learningrate=0.5)", "ParallelAdam()"]


def run_script(tmp_path, *args):
    import subprocess
    import sys
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), BIGDL_CORE_NUMBER="1")
    subprocess.run([sys.executable, str(script)] + [str(a) for a in args], check=True, env=env, timeout=120)


@pytest.mark.parametrize("method", METHODS)
def test_ten_saved_ten_resumed_in_a_fresh_process_equal_twenty(tmp_path, method):
    run_script(tmp_path, method, 20, tmp_path / "straight")
    run_script(tmp_path, method, 10, tmp_path / "first")
    run_script(tmp_path, method, 20, tmp_path / "second", tmp_path / "first")
    straight, resumed = np.load(tmp_path / "straight.npy"), np.load(tmp_path / "second.npy")
    halfway = np.load(tmp_path / "first.npy")
    assert not np.array_equal(halfway, straight)  # the second half trained
    np.testing.assert_array_equal(resumed, straight)


def test_loaded_method_keeps_its_class_and_arguments(tmp_path):
    from bigdl.optim.optimizer import SGD, Adam, OptimMethod
    path = str(tmp_path / "m")
    SGD(learningrate=0.3, momentum=0.5, dampening=0.0).save(path)
    loaded = OptimMethod.load(path)
    assert type(loaded) is SGD and "momentum=0.5" in str(loaded) and "learningrate=0.3" in str(loaded)
    Adam().save(path, overWrite=True)
    assert type(OptimMethod.load(path)) is Adam


def test_optim_method_files_and_model_files_are_not_interchangeable(tmp_path):
    from bigdl.optim.optimizer import SGD, OptimMethod
    model_path, method_path = str(tmp_path / "m.model"), str(tmp_path / "m.method")
    small_model().saveModel(model_path)
    SGD().save(method_path)
    with pytest.raises(OSError, match="model file, not a bigdl-go optim-method file") as e:
        OptimMethod.load(model_path)
    assert model_path in str(e.value)
    with pytest.raises(OSError, match="optim-method file, not a bigdl-go model file") as e:
        Model.loadModel(method_path)
    assert method_path in str(e.value)
    before = open(method_path, "rb").read()
    with pytest.raises(OSError, match="over_write"):
        SGD().save(method_path)
    assert open(method_path, "rb").read() == before


def test_method_resumed_with_another_model_is_refused(tmp_path):
    from bigdl.nn.criterion import ClassNLLCriterion
    from bigdl.optim.optimizer import Adam, MaxIteration, OptimMethod, Optimizer
    X = np.random.RandomState(0).randn(20, 4).astype(np.float32)
    Y = np.ones(20, dtype=np.float32)
    method = Adam()
    Optimizer(small_model(), (X, Y), ClassNLLCriterion(), MaxIteration(2), 5, method).optimize()
    method.save(str(tmp_path / "m"))
    other = Sequential().add(Linear(4, 3)).add(LogSoftMax())
    with pytest.raises(ValueError, match="parameters"):
        Optimizer(other, (X, Y), ClassNLLCriterion(), MaxIteration(4), 5, OptimMethod.load(str(tmp_path / "m"))).optimize()
    with pytest.raises(ValueError, match="records"):
        Optimizer(small_model(), (X[:10], Y[:10]), ClassNLLCriterion(), MaxIteration(4), 5,
                  OptimMethod.load(str(tmp_path / "m"))).optimize()
