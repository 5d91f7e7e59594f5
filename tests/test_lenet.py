"""LeNet-5 and the MNIST data the CNN tutorials read: bigdl.dataset.mnist on generated IDX
files (gzipped or not), its errors, bigdl.models.lenet, and LeNet-5 trained on sklearn's
digits to ≥ 95% on every kernel set this CPU runs. Nothing here uses the network."""
import gzip
import json
import os
import sys

import numpy as np
import pytest

from bigdl.dataset import base, mnist
from bigdl.dataset.transformer import normalizer
from bigdl.models.lenet import lenet5, utils

from conftest import LECTURE_DIR, _run_python, child_env, example_accuracy

sys.path.insert(0, str(LECTURE_DIR))
from _mnist_files import write_digits, write_idx  # noqa: E402


def fake_mnist(rng, n):
    return rng.randint(0, 256, (n, 28, 28)).astype(np.uint8), rng.randint(0, 10, n).astype(np.uint8)


@pytest.mark.parametrize("compress", [True, False])
def test_read_data_sets_round_trips_idx_files(tmp_path, compress):
    rng = np.random.RandomState(0)
    suffix = ".gz" if compress else ""
    sets = {"train": fake_mnist(rng, 7), "t10k": fake_mnist(rng, 3)}
    for prefix, (images, labels) in sets.items():
        write_idx(str(tmp_path / ("%s-images-idx3-ubyte%s" % (prefix, suffix))), images, compress)
        write_idx(str(tmp_path / ("%s-labels-idx1-ubyte%s" % (prefix, suffix))), labels, compress)
    for data_type, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = mnist.read_data_sets(str(tmp_path), data_type)
        assert images.dtype == np.uint8 and images.shape == sets[prefix][0].shape + (1,)
        assert labels.dtype == np.uint8 and labels.shape == (len(sets[prefix][1]),)
        np.testing.assert_array_equal(images[..., 0], sets[prefix][0])
        np.testing.assert_array_equal(labels, sets[prefix][1])


def write_raw(path, data, compress):
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("compress", [True, False])
def test_truncated_or_wrong_magic_files_name_the_file(tmp_path, compress):
    images, labels = fake_mnist(np.random.RandomState(1), 4)
    good = str(tmp_path / "good-labels")
    write_idx(good, labels, False)
    img = str(tmp_path / "train-images-idx3-ubyte")
    lab = str(tmp_path / "train-labels-idx1-ubyte")
    write_idx(img, images, False)
    raw = open(img, "rb").read()
    write_raw(img, raw[:-10], compress)
    write_raw(lab, open(good, "rb").read(), compress)
    with pytest.raises(ValueError) as e:
        mnist.read_data_sets(str(tmp_path), "train")
    assert "truncated" in str(e.value) and img in str(e.value)
    write_raw(img, (1234).to_bytes(4, "big") + raw[4:], compress)
    with pytest.raises(ValueError) as e:
        mnist.read_data_sets(str(tmp_path), "train")
    assert "magic number 1234" in str(e.value) and img in str(e.value)
    write_raw(img, raw, compress)
    write_raw(lab, raw, compress)  # an image file where the labels should be
    with pytest.raises(ValueError) as e:
        mnist.read_data_sets(str(tmp_path), "train")
    assert "magic number 2051" in str(e.value) and lab in str(e.value)


def test_a_missing_file_that_cannot_be_downloaded_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "SOURCE_URL", (tmp_path / "no-such-mirror").as_uri() + "/")
    with pytest.raises(OSError) as e:
        mnist.read_data_sets(str(tmp_path / "mnist"), "test")
    msg = str(e.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and str(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz") in msg
    assert os.listdir(str(tmp_path / "mnist")) == []  # no partial file left behind


def test_maybe_download_fetches_once(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"abc")
    path = base.maybe_download("f.bin", str(tmp_path / "d"), src.as_uri())
    assert open(path, "rb").read() == b"abc"
    src.write_bytes(b"changed")
    assert open(base.maybe_download("f.bin", str(tmp_path / "d"), src.as_uri()), "rb").read() == b"abc"


def test_normalizer_and_constants():
    x = np.array([[0, 255]], np.uint8)
    np.testing.assert_allclose(normalizer(x, mnist.TRAIN_MEAN, mnist.TRAIN_STD),
                               (x - 0.13066047740239506 * 255) / (0.3081078 * 255))
    assert mnist.TEST_MEAN == 0.13251460696903547 * 255 and mnist.TEST_STD == 0.31048024 * 255


def test_build_model_is_bigdls_lenet5():
    model = lenet5.build_model(10)
    names = [type(layer).__name__ for layer in model.layers]
    assert names == ["Reshape", "SpatialConvolution", "Tanh", "SpatialMaxPooling", "SpatialConvolution", "Tanh",
                     "SpatialMaxPooling", "Reshape", "Linear", "Tanh", "Linear", "LogSoftMax"]
    assert [w.shape for w in model.get_weights()] == [(1, 6, 1, 5, 5), (6,), (1, 12, 6, 5, 5), (12,), (100, 192),
                                                      (100,), (10, 100), (10,)]
    out = model.forward(np.random.RandomState(0).rand(3, 28, 28, 1).astype(np.float32))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(np.exp(out).sum(1), 1, rtol=1e-5)


class _FakeRDD(list):
    def zip(self, other):
        return _FakeRDD(zip(self, other))


class _FakeContext:
    def parallelize(self, data):
        return _FakeRDD(data)


def test_get_mnist_pairs_images_with_one_based_labels(tmp_path):
    write_digits(str(tmp_path))
    images, labels = mnist.read_data_sets(str(tmp_path), "test")
    records = utils.get_mnist(_FakeContext(), "test", str(tmp_path))
    assert len(records) == len(labels) == 360
    for (img, label), want_img, want_label in zip(records, images, labels):
        np.testing.assert_array_equal(img, want_img)
        assert label == want_label + 1


def kernel_sets():
    """The kernel sets this CPU runs, asked of the library in a child interpreter."""
    p = _run_python("import json, bigdl._native as n; print(json.dumps(n.call(0, 'info')[0]))", timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    sets = json.loads(p.stdout.strip().splitlines()[-1])["kernel_sets"]
    return [name for name, missing in sets.items() if not missing]


def test_lenet5_learns_digits_on_every_kernel_set(tmp_path):
    """The LeNet-5 example: SGD for a fixed 10 epochs on sklearn's digits as 28×28 IDX files,
    a fixed 80/20 split, ≥ 95% test accuracy whichever kernels run it."""
    data = str(tmp_path / "digits")
    for name in kernel_sets():
        acc, p = example_accuracy("lenet5_mnist.py", [data], 360, env=child_env(BIGDL_KERNELS=name))
        assert "BIGDL_KERNELS=%s" % name not in p.stderr, p.stderr[-2000:]  # the set was not refused
        assert acc >= 0.95, "%s: %s" % (name, p.stdout[-2000:])
