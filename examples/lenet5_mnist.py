"""LeNet-5 on MNIST-format IDX files, as BigDL's LeNet tutorial trains it.

    PYTHONPATH=../python python lenet5_mnist.py [data_dir]

data_dir holds the four MNIST files (train-images-idx3-ubyte.gz, ...; gzipped or not).
When it has none, the example writes MNIST-shaped files made from scikit-learn's digits
there (1437 training and 360 test images), so it runs in seconds without a download."""
import os
import sys
import tempfile

import numpy as np

from bigdl.dataset import mnist
from bigdl.dataset.transformer import normalizer
from bigdl.models.lenet.lenet5 import build_model
from bigdl.nn.criterion import ClassNLLCriterion
from bigdl.optim.optimizer import SGD, EveryEpoch, MaxEpoch, Optimizer, Top1Accuracy
from bigdl.util.common import RNG, Sample


def samples(images, labels, mean, std):
    """Normalised images with 1-based labels, as BigDL's ClassNLLCriterion wants."""
    return [Sample.from_ndarray(normalizer(x.astype(np.float32), mean, std), int(y) + 1)
            for x, y in zip(images, labels)]


def load_samples(data_dir):
    """The training and test Samples of the MNIST files in data_dir (written from sklearn's
    digits when there are none)."""
    if not any(os.path.exists(os.path.join(data_dir, "train-images-idx3-ubyte" + s)) for s in ("", ".gz")):
        from _mnist_files import write_digits
        print("No MNIST files in %s: writing %d + %d images made from sklearn's digits" % ((data_dir,) + write_digits(data_dir)))
    train_images, train_labels = mnist.read_data_sets(data_dir, "train")
    test_images, test_labels = mnist.read_data_sets(data_dir, "test")
    return (samples(train_images, train_labels, mnist.TRAIN_MEAN, mnist.TRAIN_STD),
            samples(test_images, test_labels, mnist.TEST_MEAN, mnist.TEST_STD))


def main(data_dir):
    train, test = load_samples(data_dir)
    RNG().set_seed(7)
    model = build_model(10)
    optimizer = Optimizer(model=model, training_rdd=train, criterion=ClassNLLCriterion(),
                          end_trigger=MaxEpoch(10), batch_size=32,
                          optim_method=SGD(learningrate=0.05, learningrate_decay=0.0002, momentum=0.9))
    optimizer.set_validation(batch_size=128, val_rdd=test, trigger=EveryEpoch(), val_method=[Top1Accuracy()])
    optimizer.optimize()
    for result in model.evaluate(test, 128, [Top1Accuracy()]):
        print(result)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(), "bigdl-go-digits-mnist"))
