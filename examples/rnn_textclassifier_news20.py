"""A recurrent text classifier on news20, as BigDL's textclassifier builds its "gru" and
"lstm" models: GloVe vectors of each post's first words into Recurrent(GRU) (or LSTM), the
last step through Select(2, -1), then Linear, Dropout, ReLU and Linear layers.

    PYTHONPATH=../python python rnn_textclassifier_news20.py [data_dir] [gru|lstm]

data_dir holds 20news-18828/ and glove.6B/ (bigdl.dataset.news20 downloads them when absent).
Without a data_dir, the example generates a news20-format directory of 4 newsgroups (800
posts: a recurrent layer needs more than the text CNN's 240) and a GloVe file for it, so it
runs in seconds without a download."""
import os
import sys
import tempfile

from bigdl.nn.criterion import ClassNLLCriterion
from bigdl.nn.layer import GRU, LSTM, Dropout, Linear, LogSoftMax, Recurrent, ReLU, Select, Sequential
from bigdl.optim.optimizer import Adagrad, EveryEpoch, MaxEpoch, Optimizer, Top1Accuracy
from bigdl.util.common import RNG

from textclassifier_news20 import EMBEDDING_DIM, load_samples


def build_model(class_num, model_type="gru", p=0.0):
    model = Sequential()
    if model_type == "lstm":
        model.add(Recurrent().add(LSTM(EMBEDDING_DIM, 128, p)))
    else:
        model.add(Recurrent().add(GRU(EMBEDDING_DIM, 128, p)))
    model.add(Select(2, -1))
    model.add(Linear(128, 100))
    model.add(Dropout(0.2))
    model.add(ReLU())
    model.add(Linear(100, class_num))
    model.add(LogSoftMax())
    return model


def main(data_dir, model_type):
    train, val, class_num = load_samples(data_dir, posts_per_group=200)
    RNG().set_seed(3)
    model = build_model(class_num, model_type)
    optimizer = Optimizer(model=model, training_rdd=train, criterion=ClassNLLCriterion(),
                          end_trigger=MaxEpoch(10), batch_size=32, optim_method=Adagrad(learningrate=0.01))
    optimizer.set_validation(batch_size=64, val_rdd=val, trigger=EveryEpoch(), val_method=[Top1Accuracy()])
    optimizer.optimize()
    for result in model.evaluate(val, 64, [Top1Accuracy()]):
        print(result)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(), "bigdl-go-news20-800"),
         sys.argv[2] if len(sys.argv) > 2 else "gru")
