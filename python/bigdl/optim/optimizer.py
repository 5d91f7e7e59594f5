"""BigDL's bigdl.optim.optimizer: optim methods, triggers, validation methods
and the Optimizer that trains a model.

Training runs in the Go core: the data is handed over once as arrays, and
Python only polls for progress lines (logged to the `bigdl` logger) until
the run ends. Ctrl-C cancels within a second and leaves the model usable.
"""
import multiprocessing
import os

import numpy as np

from bigdl import _native
from bigdl._arrays import _records, features_and_labels
from bigdl.nn.criterion import ClassNLLCriterion, Criterion
from bigdl.nn.layer import ActivityRegularization, Layer, _path_arg  # noqa: F401 (BigDL exports it here too)
from bigdl.optim._progress import progress_bar, show_progress_bar  # noqa: F401 (the bar's switch)
from bigdl.optim._regularizers import L1L2Regularizer, L1Regularizer, L2Regularizer, Regularizer  # noqa: F401
from bigdl.optim._schedules import (Default, Exponential, LearningRateSchedule, MultiStep,  # noqa: F401
                                    NaturalExp, Plateau, Poly, SequentialSchedule, Step, Warmup, schedule_spec)
from bigdl.util.common import (DOUBLEMAX, EvaluatedResult, JavaValue, bigdl_logger, check_bigdl_type,
                               get_node_and_core_number, is_spark_rdd, to_list)


def _not_yet(what):
    raise NotImplementedError("%s is not supported by bigdl-go yet" % what)


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _clip_number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value):
        raise ValueError("%s must be a finite number, got %r" % (what, value))
    return float(value)


def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError("%s must be a positive integer, got %r" % (what, value))
    return int(value)


# Optim methods ---------------------------------------------------------------

class OptimMethod(JavaValue):
    """An optimisation method; it keeps its state (step count, momentum)
    across optimize() calls, as BigDL's do."""

    def __init__(self, jvalue=None, bigdl_type="float", **config):
        JavaValue.__init__(self, None, bigdl_type)
        self._config = config  # rebuilt from it in Spark tasks
        self._handle = jvalue if jvalue is not None else _native.new(type(self).__name__, config)

    def save(self, path, overWrite=False):
        """Saves the method with its state (step count, buffers, schedule) and where its last
        run stood (epoch, iteration, place in the shuffled epoch, Dropout streams), so that an
        Optimizer given the loaded method continues that run exactly."""
        self._call("save", {"path": _path_arg(path, "OptimMethod.save path"), "over_write": bool(overWrite)})

    @staticmethod
    def load(path, bigdl_type="float"):
        """Loads a method written by save (or a checkpoint's optimMethod file); an Optimizer
        given it continues from the saved iteration."""
        res, _ = _native.call(0, "load_optim_method", {"path": _path_arg(path, "OptimMethod.load path")})
        cls = next((c for c in _all_subclasses(OptimMethod) if c.__name__ == res["class"]), OptimMethod)
        obj = cls.__new__(cls)
        JavaValue.__init__(obj, None, bigdl_type)
        obj._config, obj._handle = res["args"], res["handle"]
        return obj

    def __str__(self):
        cfg = self._call("config")[0]
        return "%s(%s)" % (cfg["class"], ", ".join("%s=%s" % kv for kv in sorted(cfg["args"].items())))

    __repr__ = __str__


def _per_parameter(v, what):
    if v is None:
        return None
    a = _native.as_float32(v, what)
    if a.ndim != 1:
        raise ValueError("%s must be a 1-D array, got shape %s" % (what, a.shape))
    return [float(x) for x in a]


class SGD(OptimMethod):
    """Stochastic gradient descent with learning-rate decay, weight decay,
    momentum (dampening defaults to the momentum) and Nesterov."""

    def __init__(self, learningrate=1e-3, learningrate_decay=0.0, weightdecay=0.0, momentum=0.0,
                 dampening=DOUBLEMAX, nesterov=False, leaningrate_schedule=None, learningrates=None,
                 weightdecays=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, learningrate=learningrate, learningrate_decay=learningrate_decay,
                         leaningrate_schedule=schedule_spec(leaningrate_schedule),
                         weightdecay=weightdecay, momentum=momentum, dampening=dampening, nesterov=nesterov,
                         learningrates=_per_parameter(learningrates, "SGD learningrates"),
                         weightdecays=_per_parameter(weightdecays, "SGD weightdecays"))


class Adam(OptimMethod):
    """Adam with BigDL's defaults."""

    def __init__(self, learningrate=1e-3, learningrate_decay=0.0, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 bigdl_type="float"):
        super().__init__(None, bigdl_type, learningrate=learningrate, learningrate_decay=learningrate_decay,
                         beta1=beta1, beta2=beta2, epsilon=epsilon)


class Adagrad(OptimMethod):
    """Adagrad with BigDL's defaults."""

    def __init__(self, learningrate=1e-3, learningrate_decay=0.0, weightdecay=0.0, bigdl_type="float"):
        super().__init__(None, bigdl_type, learningrate=learningrate, learningrate_decay=learningrate_decay,
                         weightdecay=weightdecay)


class RMSprop(OptimMethod):
    """RMSprop with BigDL's defaults."""

    def __init__(self, learningrate=1e-2, learningrate_decay=0.0, decayrate=0.99, epsilon=1e-8, bigdl_type="float"):
        super().__init__(None, bigdl_type, learningrate=learningrate, learningrate_decay=learningrate_decay,
                         decayrate=decayrate, epsilon=epsilon)


class ParallelAdam(OptimMethod):
    """Adam; BigDL updated with parallel_num threads, and the Go loop shares
    every update between its workers anyway."""

    def __init__(self, learningrate=1e-3, learningrate_decay=0.0, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 parallel_num=-1, bigdl_type="float"):
        super().__init__(None, bigdl_type, learningrate=learningrate, learningrate_decay=learningrate_decay,
                         beta1=beta1, beta2=beta2, epsilon=epsilon, parallel_num=parallel_num)


class Adadelta(OptimMethod):
    """Adadelta (no learning rate): steps scaled by running roots of past
    steps over past gradients."""

    def __init__(self, decayrate=0.9, epsilon=1e-10, bigdl_type="float"):
        super().__init__(None, bigdl_type, decayrate=decayrate, epsilon=epsilon)


class Adamax(OptimMethod):
    """Adamax: Adam with the infinity norm of past gradients."""

    def __init__(self, learningrate=0.002, beta1=0.9, beta2=0.999, epsilon=1e-38, bigdl_type="float"):
        super().__init__(None, bigdl_type, learningrate=learningrate, beta1=beta1, beta2=beta2, epsilon=epsilon)


class Ftrl(OptimMethod):
    """Follow-the-regularized-leader with L1, L2 and shrinkage-type L2 penalties."""

    def __init__(self, learningrate=1e-3, learningrate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, bigdl_type="float"):
        super().__init__(None, bigdl_type, learningrate=learningrate, learningrate_power=learningrate_power,
                         initial_accumulator_value=initial_accumulator_value,
                         l1_regularization_strength=l1_regularization_strength,
                         l2_regularization_strength=l2_regularization_strength,
                         l2_shrinkage_regularization_strength=l2_shrinkage_regularization_strength)


class LBFGS(OptimMethod):
    """Limited-memory BFGS as BigDL runs it inside its optimizers: each
    iteration's function is the mini-batch's loss and gradient, so each
    iteration takes one step along the two-loop direction. Line searches are
    not supported (as in BigDL's Python API)."""

    def __init__(self, max_iter=20, max_eval=DOUBLEMAX, tolfun=1e-5, tolx=1e-9, ncorrection=100, learningrate=1.0,
                 verbose=False, linesearch=None, linesearch_options=None, bigdl_type="float"):
        if linesearch or linesearch_options:
            raise ValueError("linesearch and linesearch_options are not supported")
        super().__init__(None, bigdl_type, max_iter=max_iter, max_eval=max_eval, tolfun=tolfun, tolx=tolx,
                         ncorrection=ncorrection, learningrate=learningrate)


class _PerModule(JavaValue):
    """The methods of a dict {submodule name: OptimMethod}, over one model.
    Their state lives in the methods themselves, so it carries over."""

    _class_name = "PerModule"

    def __init__(self, methods, model):
        JavaValue.__init__(self, None, "float")
        self.methods = methods  # keeps their Go objects alive
        self._config = {"methods": {n: {"class": type(m).__name__, "args": m._config} for n, m in methods.items()}}
        self._handle = _native.new("PerModule", {"model": model.value,
                                                 "methods": {n: m.value for n, m in methods.items()}})


def _run_start(method):
    """(epoch, records of it done) where a run with method starts: where its last run left the
    counters, or where a loaded method's saved run stood."""
    run, _ = method._call("run")
    if run is None:
        return 1, 0
    return run["state"]["Epoch"], run.get("epoch_records") or run.get("cursor") or 0


def _latest_checkpoint(checkpoint_path):
    """The newest complete checkpoint under checkpoint_path (a run's directory, or the path given
    to set_checkpoint, whose run directories are searched) as (model file, {name: optim-method
    file}), or None. Temporary files and half-written checkpoints are skipped. (bigdl-go's; BigDL
    scripts list the directory themselves.)"""
    found, _ = _native.call(0, "latest_checkpoint", {"path": _path_arg(checkpoint_path, "checkpoint_path")})
    if found is None:
        return None
    return found["model"], found["methods"]


# Triggers --------------------------------------------------------------------

class _Spec(object):
    """A trigger or validation method: a description the Go core builds from."""

    def __init__(self, bigdl_type="float", **spec):
        check_bigdl_type(bigdl_type)
        self.bigdl_type = bigdl_type
        self._spec = dict(spec, **{"class": type(self).__name__})

    def __str__(self):
        return type(self).__name__

    __repr__ = __str__


class MaxEpoch(_Spec):
    """Ends training after max_epoch epochs."""

    def __init__(self, max_epoch, bigdl_type="float"):
        super().__init__(bigdl_type, max_epoch=_positive_int(max_epoch, "MaxEpoch max_epoch"))


class MaxIteration(_Spec):
    """Ends training after max iterations."""

    def __init__(self, max, bigdl_type="float"):
        super().__init__(bigdl_type, max=_positive_int(max, "MaxIteration max"))


class EveryEpoch(_Spec):
    """Fires at the end of every epoch."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class SeveralIteration(_Spec):
    """Fires every interval iterations."""

    def __init__(self, interval, bigdl_type="float"):
        super().__init__(bigdl_type, interval=_positive_int(interval, "SeveralIteration interval"))


class MaxScore(_Spec):
    """Fires when the validation score exceeds max."""

    def __init__(self, max, bigdl_type="float"):
        super().__init__(bigdl_type, max=float(max))


class MinLoss(_Spec):
    """Fires when the training loss drops below min."""

    def __init__(self, min, bigdl_type="float"):
        super().__init__(bigdl_type, min=float(min))


def _trigger_spec(t, what):
    if not isinstance(t, _Spec) or isinstance(t, ValidationMethod):
        raise ValueError("%s must be a trigger such as MaxEpoch(10) or EveryEpoch(), got %r" % (what, t))
    return t._spec


class TriggerAnd(_Spec):
    """Fires when all the given triggers fire."""

    def __init__(self, first, *other):
        super().__init__(triggers=[_trigger_spec(t, "TriggerAnd argument") for t in (first,) + other])


class TriggerOr(_Spec):
    """Fires when any of the given triggers fires."""

    def __init__(self, first, *other):
        super().__init__(triggers=[_trigger_spec(t, "TriggerOr argument") for t in (first,) + other])


# Validation methods ----------------------------------------------------------

class ValidationMethod(_Spec):
    """A score computed over a validation or test set."""


class Top1Accuracy(ValidationMethod):
    """Fraction of records whose highest output is the (1-based) label."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class Top5Accuracy(ValidationMethod):
    """Fraction of records whose label is among the 5 highest outputs."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class Loss(ValidationMethod):
    """The criterion's loss (ClassNLLCriterion by default), as the exact mean
    over records."""

    def __init__(self, cri=None, bigdl_type="float"):
        if cri is None:
            cri = ClassNLLCriterion()
        if not isinstance(cri, Criterion):
            raise ValueError("Loss: cri must be a Criterion, got %r" % (cri,))
        super().__init__(bigdl_type, criterion=cri._spec)


class MAE(ValidationMethod):
    """Mean absolute error."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class TreeNNAccuracy(ValidationMethod):
    """Accuracy of tree-structured outputs (batch, nodes, classes): each
    record's root (first node) against its first label."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class HitRatio(ValidationMethod):
    """Recommendation hit ratio: scores come in groups of neg_num + 1 records
    (a user's positive item, first, then its negatives; a label of 1 marks
    the positive when the labels mark exactly one); a group counts as a hit
    when fewer than k items score above the positive."""

    def __init__(self, k=10, neg_num=100, bigdl_type="float"):
        super().__init__(bigdl_type, k=_positive_int(k, "HitRatio k"),
                         neg_num=_positive_int(neg_num, "HitRatio neg_num"))


class NDCG(ValidationMethod):
    """Normalized discounted cumulative gain over groups of neg_num + 1
    scores (as HitRatio): log 2 / log(rank + 1) when the positive ranks in
    the top k, else 0."""

    def __init__(self, k=10, neg_num=100, bigdl_type="float"):
        super().__init__(bigdl_type, k=_positive_int(k, "NDCG k"), neg_num=_positive_int(neg_num, "NDCG neg_num"))


_VALIDATION_BY_NAME = {"Top1Accuracy": Top1Accuracy, "Top5Accuracy": Top5Accuracy, "Loss": Loss, "MAE": MAE}


def _val_method_specs(methods, what):
    """Specs for a list (or one) of validation methods; names as strings are
    accepted, as BigDL 0.1 scripts pass them."""
    out = []
    for m in to_list(methods):
        if isinstance(m, str):
            if m not in _VALIDATION_BY_NAME:
                raise ValueError("%s: unknown validation method %r (known: %s)"
                                 % (what, m, ", ".join(sorted(_VALIDATION_BY_NAME))))
            m = _VALIDATION_BY_NAME[m]()
        if not isinstance(m, ValidationMethod):
            raise ValueError("%s must hold validation methods such as Top1Accuracy() or Loss(), got %r" % (what, m))
        out.append(m._spec)
    if not out:
        raise ValueError("%s must name at least one validation method" % what)
    return out


# Optimizer -------------------------------------------------------------------

class BaseOptimizer(JavaValue):
    """Holds a training configuration; optimize() runs it in the Go core."""

    def __init__(self, model, criterion, end_trigger, batch_size, optim_method=None, bigdl_type="float"):
        JavaValue.__init__(self, None, bigdl_type)
        self.set_model(model)
        self.set_criterion(criterion)
        self.set_end_when(end_trigger)
        self._batch_size = _positive_int(batch_size, "batch_size")
        if optim_method is None:
            optim_method = SGD()
        if isinstance(optim_method, dict):
            for name, m in optim_method.items():
                if not isinstance(name, str) or not isinstance(m, OptimMethod):
                    raise ValueError("optim_method: a dict must map submodule names to optim methods such as "
                                     "SGD(), got %r: %r" % (name, m))
            if not optim_method:
                raise ValueError("optim_method: the dict of optim methods is empty")
        elif not isinstance(optim_method, OptimMethod):
            raise ValueError("optim_method must be an optim method such as SGD(learningrate=0.01), got %r" % (optim_method,))
        self.optim_method = optim_method
        self._clip = {"const": None, "l2norm": None}
        self._cores = None  # None: the engine's core count
        self._validation = None
        self._checkpoint = None
        self._train_arrays = None
        self._train_summary = None
        self._val_summary = None

    def _method(self):
        """The optim method object training runs: optim_method, or for a dict of
        them one that gives each submodule's parameters to its own."""
        if isinstance(self.optim_method, dict):
            return _PerModule(self.optim_method, self.model)
        return self.optim_method

    def set_model(self, model):
        if not isinstance(model, Layer):
            raise ValueError("model must be a Layer (e.g. a Sequential), got %r" % (model,))
        self.model = model

    def set_criterion(self, criterion):
        if not isinstance(criterion, Criterion):
            raise ValueError("criterion must be a Criterion such as ClassNLLCriterion(), got %r" % (criterion,))
        self.criterion = criterion

    def set_end_when(self, end_when):
        self._end_trigger = _trigger_spec(end_when, "end_trigger")
        return self

    def set_checkpoint(self, checkpoint_trigger, checkpoint_path, isOverWrite=True):
        """Saves the model and the optim method whenever checkpoint_trigger fires, in BigDL's
        layout: a subdirectory of checkpoint_path per run (named by its start time) holding
        model.<n> and optimMethod-<model name>.<n> (n: the next iteration's number). The
        directory is created if missing."""
        path = _path_arg(checkpoint_path, "set_checkpoint checkpoint_path")
        if os.path.exists(path) and not os.path.isdir(path):
            raise ValueError("set_checkpoint: checkpoint_path %s is a file, not a directory" % path)
        os.makedirs(path, exist_ok=True)
        self._checkpoint = {"trigger": _trigger_spec(checkpoint_trigger, "set_checkpoint checkpoint_trigger"),
                            "path": os.path.abspath(path), "overwrite": bool(isOverWrite)}

    def set_train_summary(self, summary):
        """Records the training loss, throughput, learning rate and parameters
        in summary (a TrainSummary) as its triggers ask."""
        if not isinstance(summary, TrainSummary):
            raise ValueError("set_train_summary: summary must be a TrainSummary, got %r" % (summary,))
        self._train_summary = summary
        return self

    def set_val_summary(self, summary):
        """Records every validation score in summary (a ValidationSummary)."""
        if not isinstance(summary, ValidationSummary):
            raise ValueError("set_val_summary: summary must be a ValidationSummary, got %r" % (summary,))
        self._val_summary = summary
        return self

    def set_gradclip_const(self, min_value, max_value):
        """Clamps every gradient element to [min_value, max_value] before each update."""
        lo, hi = _clip_number(min_value, "min_value"), _clip_number(max_value, "max_value")
        if lo > hi:
            raise ValueError("set_gradclip_const: min_value (%r) must not exceed max_value (%r)" % (lo, hi))
        self._clip["const"] = [lo, hi]

    def set_gradclip_l2norm(self, clip_norm):
        """Rescales the whole gradient to clip_norm when its L2 norm (over every
        parameter, on Spark over every task's part) exceeds it."""
        v = _clip_number(clip_norm, "clip_norm")
        if v <= 0:
            raise ValueError("set_gradclip_l2norm: clip_norm must be positive, got %r" % v)
        self._clip["l2norm"] = v

    def disable_gradclip(self):
        self._clip = {"const": None, "l2norm": None}

    def _set_validation(self, batch_size, data, trigger, val_method):
        if val_method is None:
            val_method = [Top1Accuracy()]
        self._validation = {"batch_size": _positive_int(batch_size, "set_validation batch_size"),
                            "trigger": _trigger_spec(trigger, "set_validation trigger"),
                            "methods": _val_method_specs(val_method, "set_validation val_method"),
                            "data": data, "arrays": None}

    def _training_arrays(self):
        if self._train_arrays is None:
            self._train_arrays = features_and_labels(self._training_data, "training_rdd")
        return self._train_arrays

    def prepare_input(self):
        """Converts the training data to arrays now rather than at optimize()."""
        print("Loading input ...")
        self._training_arrays()

    def optimize(self):
        """Trains until the end trigger; returns the trained model (the same
        object that was passed in, updated in place)."""
        if is_spark_rdd(self._training_data):
            from bigdl import _spark
            return _spark.optimize(self)
        log = bigdl_logger()
        x, y = self._training_arrays()
        method = self._method()  # alive until the run ends: the run uses its Go object
        config = {"model": self.model.value, "criterion": self.criterion.value,
                  "optim_method": method.value, "batch_size": self._batch_size,
                  "end_trigger": self._end_trigger, "cores": self._cores or get_node_and_core_number()[1],
                  "clip": self._clip}
        if self._checkpoint is not None:
            config["checkpoint"] = dict(self._checkpoint, name=self.model.name())
        v = self._validation
        if v is not None:
            if v["arrays"] is None:
                v["arrays"] = features_and_labels(v["data"], "val_rdd")
            config["validation"] = {k: v[k] for k in ("batch_size", "trigger", "methods")}
            if self._val_summary is not None:
                config["val_summary"] = self._val_summary.value
        if self._train_summary is not None:
            config["train_summary"] = self._train_summary.value
        handle = _native.new("Optimizer", config)
        try:
            _native.call(handle, "set_data", {"which": "train"}, [x, y])
            if v is not None:
                _native.call(handle, "set_data", {"which": "validation"}, list(v["arrays"]))
            start = _run_start(method)
            _native.call(handle, "start")
            with progress_bar(_records(y)[0], self._batch_size, self._end_trigger, log, start) as bar:
                status = self._follow(handle, log, bar)
        finally:
            _native.free(handle)
            del method
        if "error" in status:
            raise _native.error_for(status["status"], status["error"])
        return self.model

    @staticmethod
    def _follow(handle, log, bar):
        """Logs progress and moves the bar until the run ends; on Ctrl-C,
        cancels and re-raises."""
        try:
            while True:
                status, _ = _native.call(handle, "wait", {"seconds": 0.1})
                for line in status["lines"]:
                    log.info(line)
                bar.update(status)
                if not status["running"]:
                    return status
        except KeyboardInterrupt:
            _native.call(handle, "cancel")
            while _native.call(handle, "wait", {"seconds": 1.0})[0]["running"]:
                pass
            log.info("training interrupted; the model keeps the weights of the last finished iteration")
            raise


class Optimizer(BaseOptimizer):
    """BigDL's Optimizer(model, training_rdd, criterion, end_trigger,
    batch_size, optim_method=None).

    training_rdd may be a list (or iterable) of Sample, a (features, labels)
    pair of ndarrays, or a Spark RDD of Sample.
    """

    def __init__(self, model, training_rdd, criterion, end_trigger, batch_size, optim_method=None,
                 bigdl_type="float"):
        super().__init__(model, criterion, end_trigger, batch_size, optim_method, bigdl_type)
        self._training_data = training_rdd

    def set_validation(self, batch_size, val_rdd, trigger, val_method=None):
        """Validates on val_rdd whenever trigger fires; val_method defaults to [Top1Accuracy()]."""
        self._set_validation(batch_size, val_rdd, trigger, val_method)

    def set_traindata(self, training_rdd, batch_size):
        self._training_data = training_rdd
        self._batch_size = _positive_int(batch_size, "batch_size")
        self._train_arrays = None
        self._spark_train = None

    @staticmethod
    def create(model, training_set, criterion, end_trigger=None, batch_size=32, optim_method=None, cores=None,
               bigdl_type="float"):
        """A DistriOptimizer for an RDD of Sample, a LocalOptimizer for an
        (X, Y) pair of ndarrays. end_trigger None is MaxEpoch(1)."""
        if end_trigger is None:
            end_trigger = MaxEpoch(1)
        if is_spark_rdd(training_set):
            return DistriOptimizer(model, training_set, criterion, end_trigger, batch_size, optim_method, bigdl_type)
        if isinstance(training_set, tuple) and len(training_set) == 2:
            return LocalOptimizer(training_set[0], training_set[1], model, criterion, end_trigger, batch_size,
                                  optim_method, cores, bigdl_type)
        raise ValueError("Optimizer.create: training_set must be an RDD of Sample or an (X, Y) pair of ndarrays, "
                         "got %s" % type(training_set).__name__)


class DistriOptimizer(Optimizer):
    """BigDL's distributed optimizer: Optimizer(...) under its class name
    (training_rdd may also be local data, as for Optimizer)."""


def _local_features(X, what):
    if isinstance(X, list):
        if len(X) != 1:
            raise ValueError("%s: a list of %d ndarrays is the inputs of a multi-input model, which these layers "
                             "do not support yet; pass one ndarray" % (what, len(X)))
        X = X[0]
    if not isinstance(X, np.ndarray):
        raise ValueError("%s must be an ndarray (first dimension the record), got %s" % (what, type(X).__name__))
    return X


class LocalOptimizer(BaseOptimizer):
    """Trains on ndarrays in this process: X (records first) and Y, with up
    to `cores` goroutines (default: every core)."""

    def __init__(self, X, Y, model, criterion, end_trigger, batch_size, optim_method=None, cores=None,
                 bigdl_type="float"):
        super().__init__(model, criterion, end_trigger, batch_size, optim_method, bigdl_type)
        X = _local_features(X, "LocalOptimizer X")
        if not isinstance(Y, np.ndarray):
            raise ValueError("LocalOptimizer Y must be an ndarray (first dimension the record), got %s"
                             % type(Y).__name__)
        self._training_data = (X, Y)
        if cores is None:
            cores = multiprocessing.cpu_count()
        self._cores = _positive_int(cores, "cores")

    def set_validation(self, batch_size, X_val, Y_val, trigger, val_method=None):
        """Validates on (X_val, Y_val) whenever trigger fires; val_method defaults to [Top1Accuracy()]."""
        X_val = _local_features(X_val, "set_validation X_val")
        if not isinstance(Y_val, np.ndarray):
            raise ValueError("set_validation Y_val must be an ndarray, got %s" % type(Y_val).__name__)
        self._set_validation(batch_size, (X_val, Y_val), trigger, val_method)


# Summaries -------------------------------------------------------------------

class _Summary(JavaValue):
    """TensorBoard event files in log_dir/app_name/<kind>, written by the Go
    core while training runs (and flushed at least every second)."""

    def __init__(self, log_dir, app_name, bigdl_type="float"):
        JavaValue.__init__(self, None, bigdl_type)
        for what, v in (("log_dir", log_dir), ("app_name", app_name)):
            if not isinstance(v, str) or not v:
                raise ValueError("%s: %s must be a non-empty string, got %r" % (type(self).__name__, what, v))
        self.log_dir, self.app_name = log_dir, app_name
        self._handle = _native.new(type(self).__name__, {"log_dir": log_dir, "app_name": app_name})

    def read_scalar(self, tag):
        """Every value recorded under tag, as rows (step, value, wall clock
        time): an ndarray of shape (n, 3), ordered by step."""
        if not isinstance(tag, str):
            raise ValueError("read_scalar: tag must be a string, got %r" % (tag,))
        rows = self._call("read_scalar", {"tag": tag})[0]
        return np.array(rows, dtype=np.float64).reshape(-1, 3)


class TrainSummary(_Summary):
    """Training records in log_dir/app_name/train: "Loss" and "Throughput"
    every iteration by default; "LearningRate" and "Parameters" (histograms
    of every weight and gradient) when set_summary_trigger asks for them.
    Steps are iterations."""

    def set_summary_trigger(self, name, trigger):
        """Records name ("Loss", "Throughput", "LearningRate" or "Parameters")
        whenever trigger fires (e.g. SeveralIteration(10))."""
        spec = _trigger_spec(trigger, "set_summary_trigger trigger")
        self._call("set_summary_trigger", {"name": name, "trigger": spec})
        return self


class ValidationSummary(_Summary):
    """Validation records in log_dir/app_name/validation: each validation
    method's score under its name ("Top1Accuracy", "Loss", ...), at the
    iteration where validation ran."""
