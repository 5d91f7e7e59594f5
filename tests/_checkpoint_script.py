"""A training run for the checkpoint tests: resumes from the newest checkpoint under the
checkpoint path if there is one, checkpoints every 3 iterations, and saves its final weights.

    python _checkpoint_script.py CHECKPOINT_PATH OUT.npy ITERATIONS
"""
import sys

import numpy as np

from bigdl.nn.criterion import ClassNLLCriterion
from bigdl.nn.layer import Dropout, Linear, LogSoftMax, Model, ReLU, Sequential
from bigdl.optim.optimizer import SGD, MaxIteration, OptimMethod, Optimizer, SeveralIteration, _latest_checkpoint
from bigdl.util.common import RNG


def data():
    rs = np.random.RandomState(0)
    return rs.randn(50, 6).astype(np.float32), rs.randint(1, 4, size=50).astype(np.float32)


def main(path, out, iterations):
    found = _latest_checkpoint(path)
    if found:
        model_file, methods = found
        model = Model.loadModel(model_file)
        method = OptimMethod.load(methods[model.name()])
        print("resuming from", model_file, flush=True)
    else:
        RNG().set_seed(5)
        model = Sequential().add(Linear(6, 32)).add(ReLU()).add(Dropout(0.3)).add(Linear(32, 3)).add(LogSoftMax())
        model.set_name("net")
        method = SGD(learningrate=0.05, momentum=0.9)
    opt = Optimizer(model=model, training_rdd=data(), criterion=ClassNLLCriterion(),
                    end_trigger=MaxIteration(iterations), batch_size=8, optim_method=method)
    opt.set_checkpoint(SeveralIteration(3), path)
    opt.optimize()
    np.save(out, np.concatenate([w.ravel() for w in model.get_weights()]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
