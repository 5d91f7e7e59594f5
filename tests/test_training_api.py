"""The training API beyond SGD: bad Samples, schedules, optim methods,
clipping, initialisation methods, LocalOptimizer and Optimizer.create."""
import numpy as np
import pytest

from bigdl.util.common import Sample


@pytest.mark.parametrize("features,labels,arg", [
    (None, 1, "features"),
    ([[1.0, 2.0], [3.0]], 1, "features"),
    (["a", "b"], 1, "features"),
    (np.ones(3), None, "labels"),
    (np.ones(3), "one", "labels"),
    (np.ones(3), [[1.0], [2.0, 3.0]], "labels"),
])
def test_bad_samples_raise_at_once_naming_the_argument(features, labels, arg):
    with pytest.raises(ValueError, match=arg):
        Sample.from_ndarray(features, labels)


def test_a_list_of_numbers_is_one_tensor():
    s = Sample.from_ndarray([1.0, 2.0, 3.0], 2)
    assert len(s.features) == 1 and s.feature.to_ndarray().tolist() == [1.0, 2.0, 3.0]
    assert s.label.to_ndarray().tolist() == [2.0]


# Schedules -------------------------------------------------------------------

from bigdl.nn.criterion import MSECriterion  # noqa: E402
from bigdl.nn.layer import Linear  # noqa: E402
from bigdl.optim.optimizer import (SGD, Exponential, MaxIteration, MultiStep, NaturalExp, Optimizer,  # noqa: E402
                                   Plateau, Poly, SequentialSchedule, Step, Warmup)


def _square_run(method, iterations, w0=1.0):
    """Trains w on loss w² (one record, batch 1): each step is w -= lr_t · 2w."""
    model = Linear(1, 1, with_bias=False)
    model.set_weights([np.array([[w0]], dtype=np.float32)])
    X, Y = np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32)
    Optimizer(model, (X, Y), MSECriterion(), MaxIteration(iterations), 1, method).optimize()
    return float(model.get_weights()[0][0, 0])


@pytest.mark.parametrize("schedule,rate", [
    (Step(2, 0.5), lambda t: 0.1 * 0.5 ** (t // 2)),
    (Poly(0.5, 6), lambda t: 0.1 * (1 - t / 6) ** 0.5 if t <= 6 else 0.0),
    (MultiStep([1, 3], 0.2), lambda t: 0.1 * 0.2 ** sum(t >= s for s in [1, 3])),
    (Exponential(3, 0.5), lambda t: 0.1 * 0.5 ** (t / 3)),
    (NaturalExp(2, 0.3), lambda t: 0.1 * np.exp(-0.3 * (t // 2))),
    (Warmup(0.01), lambda t: 0.1 + 0.01 * t),
])
def test_sgd_follows_its_schedule(schedule, rate):
    w = np.float32(1.0)
    for t in range(7):
        w = np.float32(w - np.float32(rate(t)) * np.float32(2) * w)
    got = _square_run(SGD(learningrate=0.1, leaningrate_schedule=schedule), 7)
    assert got == pytest.approx(float(w), rel=1e-5)


def test_sequential_schedule_trains():
    s = SequentialSchedule(5).add(Warmup(0.05), 2).add(Step(1, 0.5), 10)
    got = _square_run(SGD(learningrate=0.1, leaningrate_schedule=s), 5)
    top = 0.1 + 0.05 * 2
    w = 1.0
    for r in [0.1, 0.15, 0.2, top * 0.5, top * 0.25]:
        w -= r * 2 * w
    assert got == pytest.approx(w, rel=1e-5)


def test_plateau_on_the_loss_cuts_the_rate():
    # The loss w² keeps falling: Plateau(mode="max") sees no improvement and
    # cuts the rate every epoch (patience 0), so training slows down.
    plain = _square_run(SGD(learningrate=0.1), 6, w0=1.0)
    cut = _square_run(SGD(learningrate=0.1, leaningrate_schedule=Plateau("Loss", factor=0.5, patience=0,
                                                                           mode="max")), 6, w0=1.0)
    assert abs(cut) > abs(plain)


@pytest.mark.parametrize("make,arg", [
    (lambda: Step(0, 0.5), "step_size"),
    (lambda: Step(-3, 0.5), "step_size"),
    (lambda: Exponential(0, 0.5), "decay_step"),
    (lambda: NaturalExp(-1, 0.5), "decay_step"),
    (lambda: Poly(1.0, 0), "max_iteration"),
    (lambda: MultiStep([4, 2], 0.5), "step_sizes"),
    (lambda: SequentialSchedule(0), "iteration_per_epoch"),
    (lambda: SequentialSchedule(3).add(Step(1, 0.5), 0), "max_iteration"),
    (lambda: Plateau("accuracy"), "monitor"),
    (lambda: SGD(leaningrate_schedule="step"), "leaningrate_schedule"),
    (lambda: SGD(leaningrate_schedule=SequentialSchedule(3)), "leaningrate_schedule"),
])
def test_bad_schedules_raise_at_once(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()
