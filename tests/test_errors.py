"""Bad input gives a clear Python exception whose message names the problem, never a
crash or a hang: wrong shapes, bad labels, non-finite or non-numeric data, empty data,
bad batch sizes, bad files, freed objects, bad constructor arguments."""
import os

import numpy as np
import pytest

from bigdl import _native
from bigdl.nn.criterion import ClassNLLCriterion, CrossEntropyCriterion
from bigdl.nn.layer import Dropout, Layer, Linear, LogSoftMax, Model, Sequential
from bigdl.optim.optimizer import (SGD, EveryEpoch, Loss, MaxEpoch, MaxIteration, Optimizer, Top1Accuracy,
                                   TriggerAnd)
from bigdl.util.common import Sample


def _opt(model, data, batch_size=16, end=None, criterion=None):
    return Optimizer(model, data, criterion or ClassNLLCriterion(), end or MaxEpoch(1), batch_size)


# Wrong feature width ------------------------------------------------------------------------

def test_forward_wrong_width_names_the_shapes():
    l = Linear(5, 2)
    with pytest.raises(ValueError) as e:
        l.forward(np.zeros((3, 4), dtype=np.float32))
    msg = str(e.value)
    assert "5" in msg and "(3, 4)" in msg, msg
    with pytest.raises(ValueError):
        Sequential().add(Linear(5, 2)).forward(np.zeros(4))
    assert l.forward(np.zeros((3, 5))).shape == (3, 2)  # still usable


def test_optimize_wrong_width_names_the_shapes(blobs, logistic_model):
    X, y = blobs
    m = logistic_model(num_features=6)
    with pytest.raises(ValueError) as e:
        _opt(m, (X, y)).optimize()
    msg = str(e.value)
    assert "6" in msg and "5)" in msg and "shape" in msg, msg
    # the model is unharmed and trains on the right data
    X6 = np.hstack([X, np.zeros((len(X), 1), np.float32)])
    assert _opt(m, (X6, y)).optimize() is m


def test_evaluate_and_predict_wrong_width(blobs, logistic_model):
    X, y = blobs
    m = logistic_model()
    with pytest.raises(ValueError, match="shape"):
        m.evaluate((X[:, :4], y), 8, [Top1Accuracy()])
    with pytest.raises(ValueError, match="shape"):
        m.predict(X[:, :3])


def test_validation_data_of_the_wrong_width(blobs, logistic_model):
    # Refused before training starts, naming the validation set and the shapes.
    X, y = blobs
    model = logistic_model()
    before = model.get_weights()
    opt = _opt(model, (X, y), batch_size=8)
    opt.set_validation(8, (X[:, :4], y), EveryEpoch(), [Top1Accuracy()])
    with pytest.raises(ValueError) as e:
        opt.optimize()
    msg = str(e.value)
    assert "validation set" in msg and "(4,)" in msg and "5 -> 2" in msg, msg
    assert "iteration" not in msg, msg
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# Labels -------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [[0.0, 1.0], [1.0, 4.0], [1.5, 1.0]])
def test_criterion_forward_bad_class_labels(target):
    x = np.log(np.full((2, 3), 1.0 / 3.0, dtype=np.float32))
    with pytest.raises(ValueError, match="1-based") as e:
        ClassNLLCriterion().forward(x, np.array(target))
    assert "3" in str(e.value)  # names the class count
    with pytest.raises(ValueError, match="1-based"):
        ClassNLLCriterion().backward(x, np.array(target))
    with pytest.raises(ValueError, match="1-based"):
        CrossEntropyCriterion().forward(x, np.array(target))


@pytest.mark.parametrize("shift", [-1.0, 2.0])
def test_optimize_labels_out_of_range(blobs, samples, logistic_model, shift):
    X, y = blobs
    bad = [Sample.from_ndarray(x, label + shift) for x, label in zip(X, y)]
    with pytest.raises(ValueError, match="1-based"):
        _opt(logistic_model(), bad).optimize()
    with pytest.raises(ValueError, match="1-based"):
        _opt(logistic_model(), (X, y + shift)).optimize()
    opt = _opt(logistic_model(), samples)
    opt.set_validation(16, bad, EveryEpoch(), [Loss()])
    with pytest.raises(ValueError, match="1-based"):
        opt.optimize()


def test_evaluate_labels_out_of_range(blobs, logistic_model):
    X, y = blobs
    for methods in ([Top1Accuracy()], [Loss()]):
        with pytest.raises(ValueError, match="1-based"):
            logistic_model().evaluate((X, y - 1), 8, methods)


# Non-finite data ----------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_features(blobs, logistic_model, bad):
    X, y = blobs
    Xb = X.copy()
    Xb[3, 2] = bad
    m = logistic_model()
    w0 = m.get_weights()
    with pytest.raises(ValueError, match="finite") as e:
        _opt(m, (Xb, y)).optimize()
    assert "record 4" in str(e.value), str(e.value)
    assert all(np.array_equal(a, b) for a, b in zip(w0, m.get_weights())), "weights changed by a refused run"
    with pytest.raises(ValueError, match="finite"):
        _opt(m, [Sample.from_ndarray(x, l) for x, l in zip(Xb, y)]).optimize()
    with pytest.raises(ValueError, match="finite"):
        m.evaluate((Xb, y), 8, [Top1Accuracy()])
    with pytest.raises(ValueError, match="finite"):
        m.predict(Xb)
    with pytest.raises(ValueError, match="finite"):
        m.predict([Sample.from_ndarray(x, l) for x, l in zip(Xb, y)])


def test_non_finite_labels(blobs, logistic_model):
    X, y = blobs
    yb = y.copy()
    yb[5] = np.nan
    with pytest.raises(ValueError, match="finite"):
        _opt(logistic_model(), (X, yb)).optimize()


def test_non_finite_validation_features(blobs, samples, logistic_model):
    X, y = blobs
    Xb = X.copy()
    Xb[0, 0] = np.nan
    opt = _opt(logistic_model(), samples)
    opt.set_validation(16, (Xb, y), EveryEpoch())
    with pytest.raises(ValueError, match="finite"):
        opt.optimize()


# Empty data, batch sizes, shapes, types ------------------------------------------------------

def test_empty_training_set(logistic_model):
    with pytest.raises(ValueError, match="empty"):
        _opt(logistic_model(), []).optimize()
    with pytest.raises(ValueError, match="empty"):
        _opt(logistic_model(), (np.zeros((0, 5), np.float32), np.zeros(0, np.float32))).optimize()
    with pytest.raises(ValueError, match="empty"):
        logistic_model().evaluate([], 8, [Top1Accuracy()])


def test_empty_validation_set(samples, logistic_model):
    opt = _opt(logistic_model(), samples)
    opt.set_validation(16, [], EveryEpoch())
    with pytest.raises(ValueError, match="empty"):
        opt.optimize()


@pytest.mark.parametrize("bs", [0, -1, -16, 2.5, 16.0, "16", None, True])
def test_bad_batch_size(samples, logistic_model, bs):
    m = logistic_model()
    with pytest.raises(ValueError, match="batch_size"):
        Optimizer(m, samples, ClassNLLCriterion(), MaxEpoch(1), bs)
    opt = _opt(m, samples)
    with pytest.raises(ValueError, match="batch_size"):
        opt.set_validation(bs, samples, EveryEpoch())
    with pytest.raises(ValueError, match="batch_size"):
        m.evaluate(samples, bs, [Top1Accuracy()])


@pytest.mark.parametrize("bs", [0, -2, 1.5])
def test_bad_predict_batch_size(blobs, logistic_model, bs):
    with pytest.raises(ValueError, match="batch_size"):
        logistic_model().predict(blobs[0], batch_size=bs)


def test_samples_of_differing_shapes(blobs, logistic_model):
    X, y = blobs
    mixed = [Sample.from_ndarray(x, l) for x, l in zip(X[:10], y)] + [Sample.from_ndarray(np.zeros(6), 1)]
    with pytest.raises(ValueError, match="shape") as e:
        _opt(logistic_model(), mixed).optimize()
    assert "record 11" in str(e.value)
    with pytest.raises(ValueError, match="shape"):
        logistic_model().evaluate(mixed, 4, [Top1Accuracy()])
    with pytest.raises(ValueError, match="shape"):
        logistic_model().predict(mixed)
    mixed_labels = ([Sample.from_ndarray(x, l) for x, l in zip(X[:10], y)]
                    + [Sample.from_ndarray(X[0], np.array([1.0, 2.0]))])
    with pytest.raises(ValueError, match="shape"):
        _opt(logistic_model(), mixed_labels).optimize()


def test_features_and_labels_of_different_lengths(blobs, logistic_model):
    X, y = blobs
    with pytest.raises(ValueError, match="records"):
        _opt(logistic_model(), (X, y[:-1])).optimize()


def test_non_numeric_features(logistic_model):
    with pytest.raises(ValueError, match="numeric"):
        Sample.from_ndarray(np.array(["a", "b"]), 1)
    with pytest.raises(ValueError, match="numeric"):
        Sample.from_ndarray(np.array([object(), object()]), 1)
    with pytest.raises(ValueError, match="numeric"):
        Sample.from_ndarray(np.arange(3.0), "one")
    objs = np.array([[object()] * 5] * 4)
    with pytest.raises(ValueError, match="numeric"):
        _opt(logistic_model(), (objs, np.ones(4))).optimize()
    with pytest.raises(ValueError, match="numeric"):
        logistic_model().forward(objs)
    with pytest.raises(ValueError, match="numeric"):
        logistic_model().predict(np.array([["a"] * 5]))


def test_training_data_of_the_wrong_kind(logistic_model, blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="Sample"):
        _opt(logistic_model(), [1, 2, 3]).optimize()
    with pytest.raises(ValueError):
        _opt(logistic_model(), X).optimize()  # features without labels
    with pytest.raises(ValueError):
        _opt(logistic_model(), "data.csv").optimize()


# Files --------------------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path, logistic_model):
    path = tmp_path / "model.bigdl"
    logistic_model().save(str(path))
    return path


def test_load_truncated_file(saved, tmp_path):
    data = saved.read_bytes()
    for cut in (len(data) // 2, len(data) - 1, 8, 1):
        bad = tmp_path / ("truncated_%d.bigdl" % cut)
        bad.write_bytes(data[:cut])
        with pytest.raises(OSError) as e:
            Layer.load(str(bad))
        assert str(bad) in str(e.value), str(e.value)


def test_load_foreign_files(tmp_path):
    for name, content in [("notes.txt", b"hello world\n" * 20), ("empty.bin", b""),
                          ("model.pkl", b"\x80\x04\x95" + bytes(range(256)))]:
        p = tmp_path / name
        p.write_bytes(content)
        with pytest.raises(OSError) as e:
            Model.load(str(p))
        assert str(p) in str(e.value), str(e.value)


def test_load_nonexistent_path_and_directory(tmp_path):
    missing = tmp_path / "nope" / "model.bigdl"
    with pytest.raises(OSError) as e:
        Layer.load(str(missing))
    assert str(missing) in str(e.value), str(e.value)
    with pytest.raises(OSError) as e:
        Layer.load(str(tmp_path))
    assert str(tmp_path) in str(e.value), str(e.value)


def test_save_into_missing_directory(tmp_path, logistic_model):
    target = tmp_path / "no" / "such" / "dir" / "m.bigdl"
    with pytest.raises(OSError) as e:
        logistic_model().save(str(target))
    assert str(target.parent) in str(e.value), str(e.value)


# Freed objects ------------------------------------------------------------------------------

def test_use_after_free_raises(blobs):
    X, y = blobs
    l = Linear(5, 2)
    l._free()
    with pytest.raises(Exception, match="freed"):
        l.forward(X)
    with pytest.raises(Exception, match="freed"):
        l.get_weights()
    l._free()  # a second free is harmless
    seq = Sequential().add(Linear(5, 2)).add(LogSoftMax())
    seq._free()
    with pytest.raises(Exception, match="freed"):
        seq.predict(X)
    with pytest.raises(Exception, match="freed"):
        Optimizer(seq, (X, y), ClassNLLCriterion(), MaxEpoch(1), 16).optimize()
    crit = ClassNLLCriterion()
    crit._free()
    with pytest.raises(Exception, match="freed"):
        crit.forward(np.zeros((1, 2)), np.ones(1))
    sgd = SGD()
    sgd._free()
    with pytest.raises(Exception, match="freed"):
        Optimizer(Sequential().add(Linear(5, 2)).add(LogSoftMax()), (X, y), ClassNLLCriterion(), MaxEpoch(1), 16,
                  sgd).optimize()


def test_stale_handle_raises_not_crashes():
    h = _native.new("Linear", {"input_size": 2, "output_size": 2})
    _native.free(h)
    with pytest.raises(_native.FreedObjectError):
        _native.call(h, "forward", tensors=[np.ones(2, np.float32)])


# Constructor arguments ----------------------------------------------------------------------

@pytest.mark.parametrize("make,argname", [
    (lambda: Linear(-1, 2), "input_size"),
    (lambda: Linear(0, 2), "input_size"),
    (lambda: Linear("a", 2), "input_size"),
    (lambda: Linear(2.5, 2), "input_size"),
    (lambda: Linear(None, 2), "input_size"),
    (lambda: Linear(3, -2), "output_size"),
    (lambda: Dropout(1.5), "init_p"),
    (lambda: Dropout(-0.1), "init_p"),
    (lambda: MaxEpoch(0), "max_epoch"),
    (lambda: MaxIteration(-1), "max"),
])
def test_bad_constructor_args_name_the_argument(make, argname):
    with pytest.raises(ValueError, match=argname):
        make()


def test_set_validation_with_a_non_trigger(samples, logistic_model):
    opt = _opt(logistic_model(), samples)
    for bad in ("EveryEpoch", 5, Top1Accuracy(), None, EveryEpoch):
        with pytest.raises(ValueError, match="trigger"):
            opt.set_validation(16, samples, bad)
    with pytest.raises(ValueError):
        opt.set_validation(16, samples, EveryEpoch(), ["NoSuchMethod"])
    with pytest.raises(ValueError):
        opt.set_validation(16, samples, EveryEpoch(), [EveryEpoch()])


def test_optimizer_with_bad_arguments(samples, logistic_model):
    m = logistic_model()
    for bad in ("nll", Linear(2, 2), None, ClassNLLCriterion):
        with pytest.raises(ValueError, match="criterion"):
            Optimizer(m, samples, bad, MaxEpoch(1), 16)
    for bad in (5, "MaxEpoch", None, Top1Accuracy()):
        with pytest.raises(ValueError, match="trigger"):
            Optimizer(m, samples, ClassNLLCriterion(), bad, 16)
    with pytest.raises(ValueError, match="model"):
        Optimizer("model", samples, ClassNLLCriterion(), MaxEpoch(1), 16)
    with pytest.raises(ValueError, match="optim_method"):
        Optimizer(m, samples, ClassNLLCriterion(), MaxEpoch(1), 16, optim_method="sgd")
    with pytest.raises(ValueError):
        TriggerAnd(MaxEpoch(1), 3)
    with pytest.raises(ValueError):
        Sequential().add("not a layer")


# Buffers larger than memory -------------------------------------------------------------------
# Go cannot recover from running out of memory (the runtime aborts the process, Python with it),
# so a request that cannot fit must be refused before it is made: a MemoryError that names what
# was being built, as PyTorch's allocator raises, and the library stays usable.

def test_a_layer_too_large_for_memory_raises_memory_error():
    with pytest.raises(MemoryError) as e:
        Linear(10 ** 6, 10 ** 6)  # 3.6 TiB of weights
    msg = str(e.value)
    assert "Linear" in msg and "TiB" not in msg and "GiB" in msg and "available" in msg, msg
    with pytest.raises(MemoryError) as e:
        Linear(10 ** 10, 10 ** 10)  # a byte count past 2**64
    assert "Linear" in str(e.value) and "overflows" in str(e.value), str(e.value)
    assert Linear(3, 2).forward(np.ones((4, 3), dtype=np.float32)).shape == (4, 2)


def test_a_forward_too_large_for_memory_raises_memory_error():
    l = Linear(2, 10 ** 6)
    with pytest.raises(MemoryError) as e:
        l.forward(np.ones((10 ** 5, 2), dtype=np.float32))  # a 373 GiB output
    assert "forward" in str(e.value), str(e.value)
    assert l.forward(np.ones((3, 2), dtype=np.float32)).shape == (3, 10 ** 6)


def test_training_too_large_for_memory_raises_memory_error():
    rs = np.random.RandomState(0)
    X, y = rs.rand(10 ** 5, 2).astype(np.float32), np.ones(10 ** 5, dtype=np.float32)
    model = Sequential().add(Linear(2, 10 ** 6)).add(LogSoftMax())
    with pytest.raises(MemoryError):
        _opt(model, (X, y), batch_size=10 ** 5).optimize()
    assert model.forward(X[:2]).shape == (2, 10 ** 6)
