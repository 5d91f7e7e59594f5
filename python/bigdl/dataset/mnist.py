"""BigDL's bigdl.dataset.mnist: the MNIST IDX files as numpy arrays.

read_data_sets(train_dir, data_type) reads train-images-idx3-ubyte.gz and
train-labels-idx1-ubyte.gz (data_type "train") or the t10k-* pair (anything else) from
train_dir, gzipped or not (a file without the .gz suffix is read when present), and
downloads the gzipped files when neither is there. Images come back as uint8
(N, rows, cols, 1), labels as uint8 (N,) digits 0-9."""
import gzip
import os

import numpy as np

from bigdl.dataset import base

SOURCE_URL = "http://yann.lecun.com/exdb/mnist/"

TRAIN_MEAN = 0.13066047740239506 * 255
TRAIN_STD = 0.3081078 * 255
TEST_MEAN = 0.13251460696903547 * 255
TEST_STD = 0.31048024 * 255

_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049


def _read_all(f):
    """The bytes of an open IDX file, unzipped when it is gzipped (told by its first bytes)."""
    data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise ValueError("%s: a damaged or truncated gzip file (%s)" % (_name(f), e)) from e
    return data


def _name(f):
    return getattr(f, "name", "the MNIST file")


def _header(data, f, magic, dims, what):
    if len(data) < 4 + 4 * dims:
        raise ValueError("%s: truncated: %d bytes cannot hold an MNIST %s header" % (_name(f), len(data), what))
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError("Invalid magic number %d in MNIST %s file: %s (expected %d)" % (found, what, _name(f), magic))
    return [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]


def _body(data, f, header_dims, shape, what):
    start = 4 + 4 * header_dims
    need = int(np.prod(shape))
    if len(data) - start < need:
        raise ValueError("%s: truncated: its header announces %s %s (%d bytes of data) but it holds %d"
                         % (_name(f), " x ".join(map(str, shape)), what, need, len(data) - start))
    return np.frombuffer(data, dtype=np.uint8, count=need, offset=start).reshape(shape)


def extract_images(f):
    """uint8 images (N, rows, cols, 1) from an open IDX image file (gzipped or not)."""
    data = _read_all(f)
    n, rows, cols = _header(data, f, _IMAGES_MAGIC, 3, "image")
    return _body(data, f, 3, (n, rows, cols), "images").reshape(n, rows, cols, 1).copy()


def extract_labels(f):
    """uint8 labels (N,) from an open IDX label file (gzipped or not)."""
    data = _read_all(f)
    (n,) = _header(data, f, _LABELS_MAGIC, 1, "label")
    return _body(data, f, 1, (n,), "labels").copy()


def _local(filename, train_dir):
    """The file in train_dir, unzipped or gzipped, downloading the gzipped one if neither is there."""
    plain = os.path.join(train_dir, filename[:-len(".gz")])
    if os.path.exists(plain):
        return plain
    return base.maybe_download(filename, train_dir, SOURCE_URL + filename)


def read_data_sets(train_dir, data_type="train"):
    """(images, labels) of the training set (data_type "train") or the test set."""
    prefix = "train" if data_type == "train" else "t10k"
    with open(_local(prefix + "-images-idx3-ubyte.gz", train_dir), "rb") as f:
        images = extract_images(f)
    with open(_local(prefix + "-labels-idx1-ubyte.gz", train_dir), "rb") as f:
        labels = extract_labels(f)
    if len(images) != len(labels):
        raise ValueError("%s: %d images but %d labels in %s" % (data_type, len(images), len(labels), train_dir))
    return images, labels
