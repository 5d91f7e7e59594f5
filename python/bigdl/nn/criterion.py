"""BigDL's bigdl.nn.criterion: loss functions."""
import numpy as np

from bigdl import _native
from bigdl.util.common import JavaValue, JTensor


def _as_array(x, what):
    """x as a float32 ndarray, or for a table (a list or tuple) a list of them."""
    if isinstance(x, JTensor):
        return x.to_ndarray()
    if isinstance(x, (list, tuple)):
        return [_as_array(e, "%s[%d]" % (what, i)) for i, e in enumerate(x)]
    return _native.as_float32(np.asarray(x, dtype=np.float32) if np.isscalar(x) else x, what)


class Criterion(JavaValue):
    """The base of every criterion: a loss of (output, target)."""

    def __init__(self, jvalue=None, bigdl_type="float", **config):
        JavaValue.__init__(self, None, bigdl_type)
        # The spec lets validation (Loss) rebuild the same criterion in Go.
        self._spec = {"class": type(self).__name__, "args": config}
        self._handle = jvalue if jvalue is not None else _native.new(type(self).__name__, config)

    @staticmethod
    def of(jcriterion, bigdl_type="float"):
        raise NotImplementedError("Criterion.of wraps JVM objects; bigdl-go has none")

    def forward(self, input, target):
        """The loss (a float)."""
        return float(self._call("forward", tensors=[_as_array(input, "criterion input"),
                                                     _as_array(target, "criterion target")])[0])

    def backward(self, input, target):
        """The gradient of the loss w.r.t. input (a list for a table input)."""
        return self._call("backward", tensors=[_as_array(input, "criterion input"),
                                               _as_array(target, "criterion target")])[1][0]

    def __str__(self):
        return "%s%s" % (type(self).__name__, "" if not self._spec["args"] else self._spec["args"])

    __repr__ = __str__


def _weights(weights, what):
    if weights is None:
        return None
    w = _native.as_float32(weights, what)
    if w.ndim != 1:
        raise ValueError("%s must be a 1-D array of per-class weights, got shape %s" % (what, w.shape))
    return [float(v) for v in w]


class ClassNLLCriterion(Criterion):
    """Negative log-likelihood of 1-based class targets given log-probabilities
    (probabilities with logProbAsInput=False), optionally weighted per class;
    averaged over the targets' weights when size_average."""

    def __init__(self, weights=None, size_average=True, logProbAsInput=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, weights=_weights(weights, "ClassNLLCriterion weights"),
                         size_average=size_average, logProbAsInput=logProbAsInput)


class CrossEntropyCriterion(Criterion):
    """LogSoftMax followed by ClassNLLCriterion, on raw scores."""

    def __init__(self, weights=None, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, weights=_weights(weights, "CrossEntropyCriterion weights"),
                         size_average=size_average)


class MSECriterion(Criterion):
    """Mean squared error over all elements."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class AbsCriterion(Criterion):
    """Mean absolute error over all elements (the sum without size_average)."""

    def __init__(self, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, size_average=size_average)


class BCECriterion(Criterion):
    """Binary cross-entropy of probabilities in (0, 1) against 0/1 targets of
    the same shape."""

    def __init__(self, weights=None, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, weights=_weights(weights, "BCECriterion weights"),
                         size_average=size_average)


class _Composite(Criterion):
    def add(self, criterion, weight=1.0):
        """Adds criterion with weight; returns self."""
        if not isinstance(criterion, Criterion):
            raise ValueError("%s.add: expected a Criterion, got %s" % (type(self).__name__, type(criterion).__name__))
        self._call("add", {"criterion": criterion.value, "weight": float(weight)})
        self._spec["args"].setdefault("criteria", []).append(dict(criterion._spec, weight=float(weight)))
        return self


class ParallelCriterion(_Composite):
    """Σ weight_i · criterion_i(input[i], target[i]) over a table input (the whole target for
    each with repeat_target)."""

    def __init__(self, repeat_target=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, repeat_target=repeat_target)


class MultiCriterion(_Composite):
    """Σ weight_i · criterion_i(input, target)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class MarginRankingCriterion(Criterion):
    """max(0, -y (x1 - x2) + margin) for an input table [x1, x2] and targets y of ±1
    (a tensor, or BigDL's table [y]); averaged with size_average."""

    def __init__(self, margin=1.0, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, margin=margin, size_average=size_average)


class CosineEmbeddingCriterion(Criterion):
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1, per row of an
    input table [x1, x2]; averaged over rows with size_average."""

    def __init__(self, margin=0.0, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, margin=margin, size_average=size_average)


class KLDCriterion(Criterion):
    """KL(N(mean, exp(log_var)) || N(0, I)) for an input table [mean, log_var] (the VAE
    loss; the target is ignored), divided by the batch size with size_average."""

    def __init__(self, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, size_average=size_average)


class GaussianCriterion(Criterion):
    """-log N(target; mean, exp(log_var)) summed, for an input table [mean, log_var]."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class SmoothL1CriterionWithWeights(Criterion):
    """Σ outside_w · smoothL1(inside_w · (x - t)) (threshold 1/sigma²) for a target table
    [t, inside_w, outside_w] (or [t]), divided by num (by the batch size when 0)."""

    def __init__(self, sigma, num=0, bigdl_type="float"):
        super().__init__(None, bigdl_type, sigma=sigma, num=num)


# The rest of §3.6 lives in its own module; they are BigDL's bigdl.nn.criterion names.
from bigdl.nn._criteria import *  # noqa: E402,F401,F403
