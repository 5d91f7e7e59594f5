"""An LSTM classifier over the 28 rows of MNIST images, as BigDL's RNN tutorial builds it:
each image is a sequence of 28 rows of 28 pixels, Recurrent(LSTM) reads them, and the
last step's hidden state goes through Linear to the 10 classes.

    PYTHONPATH=../python python lstm_mnist.py [data_dir] [epochs]

data_dir holds the four MNIST files (train-images-idx3-ubyte.gz, ...; gzipped or not).
When it has none, the example writes MNIST-shaped files made from scikit-learn's digits
there (1437 training and 360 test images), so it runs in seconds without a download."""
import os
import sys
import tempfile

from bigdl.nn.criterion import CrossEntropyCriterion
from bigdl.nn.layer import LSTM, InferReshape, Linear, Recurrent, Select, Sequential
from bigdl.optim.optimizer import Adam, EveryEpoch, MaxEpoch, Optimizer, Top1Accuracy
from bigdl.util.common import RNG

from lenet5_mnist import load_samples

N_INPUT, N_HIDDEN, N_CLASSES = 28, 128, 10


def build_model(input_size, hidden_size, output_size):
    model = Sequential()
    recurrent = Recurrent()
    recurrent.add(LSTM(input_size, hidden_size))
    model.add(InferReshape([-1, input_size, input_size]))
    model.add(recurrent)
    model.add(Select(2, -1))
    model.add(Linear(hidden_size, output_size))
    return model


def main(data_dir, epochs):
    train, test = load_samples(data_dir)
    RNG().set_seed(11)
    model = build_model(N_INPUT, N_HIDDEN, N_CLASSES)
    optimizer = Optimizer(model=model, training_rdd=train, criterion=CrossEntropyCriterion(),
                          end_trigger=MaxEpoch(epochs), batch_size=64, optim_method=Adam(learningrate=0.002))
    optimizer.set_validation(batch_size=128, val_rdd=test, trigger=EveryEpoch(), val_method=[Top1Accuracy()])
    optimizer.optimize()
    for result in model.evaluate(test, 128, [Top1Accuracy()]):
        print(result)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(), "bigdl-go-digits-mnist"),
         int(sys.argv[2]) if len(sys.argv) > 2 else 7)
