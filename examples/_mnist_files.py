"""MNIST-format IDX files made from scikit-learn's bundled digits, so the LeNet-5 example
and its tests run without downloading MNIST.

sklearn's 1797 digits (8×8, values 0-16) are upscaled 3× to 24×24, framed to 28×28 as
MNIST's are, scaled to 0-255, and split 80/20 by a fixed permutation into the four files
bigdl.dataset.mnist reads: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz."""
import gzip
import os

import numpy as np


def write_idx(path, array, compress=True):
    """Writes a uint8 array as an IDX file (magic 0x0000080N, N the rank, then the sizes)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = (0x800 + array.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)


def digits_28x28():
    """(images uint8 (1797, 28, 28), labels uint8 (1797,)) from sklearn's digits."""
    from sklearn.datasets import load_digits
    d = load_digits()
    big = np.kron(d.images, np.ones((3, 3)))                      # 8×8 -> 24×24
    framed = np.pad(big, ((0, 0), (2, 2), (2, 2)))                 # 24×24 -> 28×28
    return np.round(framed * (255.0 / 16.0)).astype(np.uint8), d.target.astype(np.uint8)


def write_digits(directory, compress=True):
    """Writes the four files into directory (created if needed); returns the split sizes."""
    os.makedirs(directory, exist_ok=True)
    images, labels = digits_28x28()
    order = np.random.RandomState(0).permutation(len(labels))
    cut = int(0.8 * len(labels))
    suffix = ".gz" if compress else ""
    for prefix, idx in (("train", order[:cut]), ("t10k", order[cut:])):
        write_idx(os.path.join(directory, "%s-images-idx3-ubyte%s" % (prefix, suffix)), images[idx], compress)
        write_idx(os.path.join(directory, "%s-labels-idx1-ubyte%s" % (prefix, suffix)), labels[idx], compress)
    return cut, len(labels) - cut
