"""BigDL's bigdl.models.lenet.utils: MNIST as RDDs for LeNet-5, and the option helpers
lenet5.py's script uses."""
from bigdl.dataset import mnist
from bigdl.dataset.transformer import normalizer
from bigdl.optim.optimizer import EveryEpoch, MaxEpoch, MaxIteration, Top1Accuracy
from bigdl.util.common import Sample


def get_mnist(sc, data_type="train", location="/tmp/mnist"):
    """An RDD of (image ndarray (28, 28, 1), label + 1): labels become BigDL's 1-based classes."""
    images, labels = mnist.read_data_sets(location, data_type)
    images = sc.parallelize(images)
    labels = sc.parallelize(labels + 1)
    return images.zip(labels)


def preprocess_mnist(sc, options):
    """Normalised (train, test) RDDs of Sample from options.dataPath."""
    train_data = get_mnist(sc, "train", options.dataPath) \
        .map(lambda t: (normalizer(t[0], mnist.TRAIN_MEAN, mnist.TRAIN_STD), t[1])) \
        .map(lambda t: Sample.from_ndarray(t[0], t[1]))
    test_data = get_mnist(sc, "test", options.dataPath) \
        .map(lambda t: (normalizer(t[0], mnist.TEST_MEAN, mnist.TEST_STD), t[1])) \
        .map(lambda t: Sample.from_ndarray(t[0], t[1]))
    return train_data, test_data


def get_end_trigger(options):
    """MaxEpoch(options.endTriggerNum) when options.endTriggerType is "epoch", else MaxIteration."""
    if options.endTriggerType.lower() == "epoch":
        return MaxEpoch(options.endTriggerNum)
    return MaxIteration(options.endTriggerNum)


def validate_optimizer(optimizer, test_data, options):
    """Validates with Top1Accuracy every epoch, and checkpoints to options.checkpointPath."""
    optimizer.set_validation(batch_size=options.batchSize, val_rdd=test_data, trigger=EveryEpoch(),
                             val_method=[Top1Accuracy()])
    optimizer.set_checkpoint(EveryEpoch(), options.checkpointPath)
