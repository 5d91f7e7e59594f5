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
