"""A text CNN on news20, as BigDL's textclassifier builds it: GloVe vectors of each post's
first words into TemporalConvolution, TemporalMaxPooling, Squeeze and Linear layers.

    PYTHONPATH=../python python textclassifier_news20.py [data_dir]

data_dir holds 20news-18828/ and glove.6B/ (bigdl.dataset.news20 downloads them when absent).
Without a data_dir, the example generates a small news20-format directory of 4 newsgroups
(240 posts) and a GloVe file for it, so it runs in seconds without a download.

As BigDL's example does, it records TensorBoard summaries (the loss, throughput and weight
histograms every 50 iterations, and the validation accuracy) in data_dir/logs:
`tensorboard --logdir data_dir/logs` shows them, during training too."""
import os
import re
import sys
import tempfile

import numpy as np

from bigdl.dataset import news20
from bigdl.nn.criterion import ClassNLLCriterion
from bigdl.nn.layer import Linear, LogSoftMax, ReLU, Sequential, Squeeze, TemporalConvolution, TemporalMaxPooling
from bigdl.optim.optimizer import (Adagrad, EveryEpoch, MaxEpoch, Optimizer, SeveralIteration, Top1Accuracy,
                                   TrainSummary, ValidationSummary)
from bigdl.util.common import RNG, Sample

SEQUENCE_LEN, EMBEDDING_DIM = 50, 50


def to_vectors(text, w2v):
    """The GloVe vectors of the first SEQUENCE_LEN known words, zero-padded: (SEQUENCE_LEN, EMBEDDING_DIM)."""
    words = [w for w in re.findall(r"[a-z0-9.]+", text.lower()) if w in w2v][:SEQUENCE_LEN]
    out = np.zeros((SEQUENCE_LEN, EMBEDDING_DIM), np.float32)
    for i, w in enumerate(words):
        out[i] = w2v[w]
    return out


def build_model(class_num):
    model = Sequential()
    model.add(TemporalConvolution(EMBEDDING_DIM, 64, 5))
    model.add(ReLU())
    model.add(TemporalMaxPooling(SEQUENCE_LEN - 5 + 1))
    model.add(Squeeze(2))
    model.add(Linear(64, 32))
    model.add(ReLU())
    model.add(Linear(32, class_num))
    model.add(LogSoftMax())
    return model


def load_samples(data_dir, posts_per_group=60):
    """The posts as Samples of word vectors, split 80/20 by a fixed permutation, and the class
    count; without data in data_dir, posts_per_group generated posts of each of 4 groups."""
    if not os.path.isdir(os.path.join(data_dir, "20news-18828")):
        from _news20_files import write_news20
        write_news20(data_dir, posts_per_group=posts_per_group, dim=EMBEDDING_DIM)
    texts = news20.get_news20(data_dir)
    w2v = news20.get_glove_w2v(data_dir, dim=EMBEDDING_DIM)
    class_num = max(label for _, label in texts)
    samples = [Sample.from_ndarray(to_vectors(text, w2v), label) for text, label in texts]
    order = np.random.RandomState(0).permutation(len(samples))
    cut = int(0.8 * len(samples))
    return [samples[i] for i in order[:cut]], [samples[i] for i in order[cut:]], class_num


def main(data_dir):
    train, val, class_num = load_samples(data_dir)
    RNG().set_seed(3)
    model = build_model(class_num)
    optimizer = Optimizer(model=model, training_rdd=train, criterion=ClassNLLCriterion(),
                          end_trigger=MaxEpoch(20), batch_size=32, optim_method=Adagrad(learningrate=0.01))
    optimizer.set_validation(batch_size=64, val_rdd=val, trigger=EveryEpoch(), val_method=[Top1Accuracy()])
    log_dir = os.path.join(data_dir, "logs")
    train_summary = TrainSummary(log_dir=log_dir, app_name="textclassifier")
    train_summary.set_summary_trigger("Parameters", SeveralIteration(50))
    optimizer.set_train_summary(train_summary)
    optimizer.set_val_summary(ValidationSummary(log_dir=log_dir, app_name="textclassifier"))
    optimizer.optimize()
    print("TensorBoard logs in %s; the last training loss: %.4f" % (log_dir, train_summary.read_scalar("Loss")[-1, 1]))
    for result in model.evaluate(val, 64, [Top1Accuracy()]):
        print(result)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(), "bigdl-go-news20"))
