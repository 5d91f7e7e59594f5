"""A two-input graph model trained with Optimizer.

Each record has two feature tensors, a (4,) "profile" and a (3,) "activity"; the label says
whether profile[0] + activity[1] > 0. Each input gets its own Linear layer, CAddTable merges
them, and a LogSoftMax head classifies. Runs in a few seconds:

    PYTHONPATH=../python python two_input_graph.py
"""
import numpy as np

from bigdl.nn.criterion import ClassNLLCriterion
from bigdl.nn.layer import CAddTable, Input, Linear, LogSoftMax, Model, Tanh
from bigdl.optim.optimizer import SGD, EveryEpoch, Loss, MaxEpoch, Optimizer, Top1Accuracy
from bigdl.util.common import RNG, Sample


def make_data(n, seed):
    rs = np.random.RandomState(seed)
    profile = rs.randn(n, 4).astype(np.float32)
    activity = rs.randn(n, 3).astype(np.float32)
    label = ((profile[:, 0] + activity[:, 1]) > 0).astype(np.float32) + 1  # 1-based classes
    return [Sample.from_ndarray([p, a], y) for p, a, y in zip(profile, activity, label)]


def build_model():
    profile, activity = Input(), Input()
    merged = CAddTable()([Linear(4, 16)(profile), Linear(3, 16)(activity)])
    hidden = Tanh()(merged)
    return Model([profile, activity], LogSoftMax()(Linear(16, 2)(hidden)))


def main():
    RNG().set_seed(42)
    train, test = make_data(2000, 0), make_data(500, 1)
    model = build_model()
    optimizer = Optimizer(model=model, training_rdd=train, criterion=ClassNLLCriterion(),
                          end_trigger=MaxEpoch(10), optim_method=SGD(learningrate=0.1, momentum=0.9),
                          batch_size=32)
    optimizer.set_validation(batch_size=64, val_rdd=test, trigger=EveryEpoch(), val_method=[Top1Accuracy()])
    optimizer.optimize()
    for result in model.evaluate(test, 64, [Loss(), Top1Accuracy()]):
        print(result)
    first = test[:3]
    print("predicted classes of three test records:", model.predict_class(first),
          "labels:", [int(s.label.to_ndarray().reshape(-1)[0]) for s in first])


if __name__ == "__main__":
    main()
