"""BigDL's learning-rate schedules for SGD(leaningrate_schedule=...).

Each is a description the Go core builds from (core/optim/schedule.go);
arguments are checked here, so a bad one raises at construction. Iteration
t counts SGD's steps from 0.
"""
from bigdl._specs import Described, count as _count, number as _number


class LearningRateSchedule(Described):
    """A learning-rate schedule for SGD."""


class Default(LearningRateSchedule):
    """lr / (1 + t * learningrate_decay)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class Poly(LearningRateSchedule):
    """lr * (1 - t / max_iteration) ** power; 0 after max_iteration."""

    def __init__(self, power, max_iteration, bigdl_type="float"):
        super().__init__(bigdl_type, power=_number(power, "Poly power"),
                         max_iteration=_count(max_iteration, "Poly max_iteration"))


class Step(LearningRateSchedule):
    """lr * gamma ** (t // step_size)."""

    def __init__(self, step_size, gamma, bigdl_type="float"):
        super().__init__(bigdl_type, step_size=_count(step_size, "Step step_size"), gamma=_number(gamma, "Step gamma"))


class MultiStep(LearningRateSchedule):
    """lr * gamma ** k, k the number of step_sizes ≤ t (increasing)."""

    def __init__(self, step_sizes, gamma, bigdl_type="float"):
        steps = [_count(s, "MultiStep step_sizes entry", 0) for s in list(step_sizes)]
        if any(b < a for a, b in zip(steps, steps[1:])):
            raise ValueError("MultiStep step_sizes must be increasing, got %r" % (steps,))
        super().__init__(bigdl_type, step_sizes=steps, gamma=_number(gamma, "MultiStep gamma"))


class Exponential(LearningRateSchedule):
    """lr * decay_rate ** (t / decay_step), the exponent floored if stair_case."""

    def __init__(self, decay_step, decay_rate, stair_case=False, bigdl_type="float"):
        super().__init__(bigdl_type, decay_step=_count(decay_step, "Exponential decay_step"),
                         decay_rate=_number(decay_rate, "Exponential decay_rate"), stair_case=bool(stair_case))


class NaturalExp(LearningRateSchedule):
    """lr * exp(-gamma * (t // decay_step))."""

    def __init__(self, decay_step, gamma, bigdl_type="float"):
        super().__init__(bigdl_type, decay_step=_count(decay_step, "NaturalExp decay_step"),
                         gamma=_number(gamma, "NaturalExp gamma"))


class Plateau(LearningRateSchedule):
    """Multiplies the rate by factor when monitor ("Loss": the training loss,
    "score": the first validation method's score) has not improved by epsilon
    for more than patience epochs; checked at each epoch's first iteration."""

    def __init__(self, monitor, factor=0.1, patience=10, mode="min", epsilon=1e-4, cooldown=0, min_lr=0.0,
                 bigdl_type="float"):
        if monitor not in ("Loss", "score"):
            raise ValueError('Plateau monitor must be "Loss" or "score", got %r' % (monitor,))
        if mode not in ("min", "max"):
            raise ValueError('Plateau mode must be "min" or "max", got %r' % (mode,))
        factor = _number(factor, "Plateau factor")
        if not 0 <= factor < 1:
            raise ValueError("Plateau factor must be in [0, 1), got %r" % factor)
        super().__init__(bigdl_type, monitor=monitor, factor=factor, patience=_count(patience, "Plateau patience", 0),
                         mode=mode, epsilon=_number(epsilon, "Plateau epsilon"),
                         cooldown=_count(cooldown, "Plateau cooldown", 0), min_lr=_number(min_lr, "Plateau min_lr"))


class Warmup(LearningRateSchedule):
    """lr + delta * t."""

    def __init__(self, delta, bigdl_type="float"):
        super().__init__(bigdl_type, delta=_number(delta, "Warmup delta"))


class SequentialSchedule(LearningRateSchedule):
    """Runs the added schedules in turn, each for max_iteration iterations
    (as in BigDL, one more: the next starts after iteration max_iteration)."""

    def __init__(self, iteration_per_epoch, bigdl_type="float"):
        super().__init__(bigdl_type, iteration_per_epoch=_count(iteration_per_epoch,
                                                                "SequentialSchedule iteration_per_epoch"),
                         schedules=[])

    def add(self, scheduler, max_iteration):
        if not isinstance(scheduler, LearningRateSchedule):
            raise ValueError("SequentialSchedule.add: scheduler must be a schedule such as Step(10, 0.5), got %r"
                             % (scheduler,))
        self._spec["schedules"].append([scheduler._spec, _count(max_iteration, "SequentialSchedule.add max_iteration")])
        return self


def schedule_spec(s):
    """The spec SGD hands the Go core; None is Default."""
    if s is None:
        return None
    if not isinstance(s, LearningRateSchedule):
        raise ValueError("SGD leaningrate_schedule must be a schedule such as Step(10, 0.5), got %r" % (s,))
    if isinstance(s, SequentialSchedule) and not s._spec["schedules"]:
        raise ValueError("SGD leaningrate_schedule: the SequentialSchedule is empty; add schedules with add()")
    return s._spec
