"""The criteria of BigDL's §3.6 beyond the first few (bigdl.nn.criterion re-exports
them). Each is one call into the Go core; class targets are 1-based."""
from bigdl.nn.criterion import Criterion, _weights


class SmoothL1Criterion(Criterion):
    """0.5·d² where |d| < 1, else |d| - 0.5, for d = x - y; averaged over elements."""

    def __init__(self, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, size_average=size_average)


class MarginCriterion(Criterion):
    """max(0, margin - x·y) (squared with squared=True) for targets y of ±1; averaged
    over elements."""

    def __init__(self, margin=1.0, size_average=True, squared=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, margin=margin, size_average=size_average, squared=squared)


class SoftMarginCriterion(Criterion):
    """log(1 + exp(-x·y)) for targets y of ±1; averaged over elements."""

    def __init__(self, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, size_average=size_average)


class HingeEmbeddingCriterion(Criterion):
    """x where y = 1, max(0, margin - x) where y = -1; averaged over elements."""

    def __init__(self, margin=1.0, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, margin=margin, size_average=size_average)


class DistKLDivCriterion(Criterion):
    """Σ y·(log y - x) over targets y > 0, for log-probabilities x; averaged over elements."""

    def __init__(self, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, size_average=size_average)


class MultiLabelSoftMarginCriterion(Criterion):
    """Binary cross-entropy of sigmoid(x) against 0/1 targets, weighted per class;
    averaged over elements."""

    def __init__(self, weights=None, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, weights=_weights(weights, "MultiLabelSoftMarginCriterion weights"),
                         size_average=size_average)


class L1Cost(Criterion):
    """Σ|x| (the target is ignored)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class MeanAbsolutePercentageCriterion(Criterion):
    """Keras's MAPE: 100·mean(|x - y| / max(|y|, 1e-7))."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class MeanSquaredLogarithmicCriterion(Criterion):
    """Keras's MSLE: mean((log(max(y, 1e-7) + 1) - log(max(x, 1e-7) + 1))²)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class PoissonCriterion(Criterion):
    """Keras's Poisson loss: mean(x - y·log(x + 1e-7))."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class KullbackLeiblerDivergenceCriterion(Criterion):
    """Keras's KLD: Σ y·log(y/x) over each record (both clipped to [1e-7, 1]), averaged
    over records."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class MultiMarginCriterion(Criterion):
    """Σ_{d≠t} w_t·max(0, margin - x_t + x_d)^p / classes per record, for 1-based class
    targets t (p is 1 or 2); averaged over records."""

    def __init__(self, p=1, weights=None, margin=1.0, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, p=p, weights=_weights(weights, "MultiMarginCriterion weights"),
                         margin=margin, size_average=size_average)


class MultiLabelMarginCriterion(Criterion):
    """Σ_{j∈T} Σ_{i∉T} max(0, 1 - (x_j - x_i)) / classes per record, where a target row
    lists the record's 1-based classes and ends at its first 0; averaged over records."""

    def __init__(self, size_average=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, size_average=size_average)


class ClassSimplexCriterion(Criterion):
    """Mean squared error between the output (batch, n_classes) and the vertex of a regular
    simplex standing for each record's 1-based class."""

    def __init__(self, n_classes, bigdl_type="float"):
        super().__init__(None, bigdl_type, n_classes=n_classes)


class CosineProximityCriterion(Criterion):
    """-Σ cos(x, y) over the records (the last dimension), divided by the element count."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class DiceCoefficientCriterion(Criterion):
    """Σ 1 - (2·Σx·y + epsilon) / (Σx + Σy + epsilon) over the records; averaged over records."""

    def __init__(self, size_average=True, epsilon=1.0, bigdl_type="float"):
        super().__init__(None, bigdl_type, size_average=size_average, epsilon=epsilon)


class DotProductCriterion(Criterion):
    """Σ x·y; divided by the records of a 2-D output with size_average."""

    def __init__(self, size_average=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, size_average=size_average)


class PGCriterion(Criterion):
    """The policy-gradient loss Σ -log(x)·y of probabilities x and rewards y; divided by the
    records of a 2-D output with sizeAverage."""

    def __init__(self, sizeAverage=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, sizeAverage=sizeAverage)


class SoftmaxWithCriterion(Criterion):
    """Softmax over dimension 2 of (batch, classes, ...) then -log p of each position's
    1-based label, skipping positions labelled ignore_label, divided by the count
    normalize_mode names: "FULL" (all positions), "VALID" (those not ignored),
    "BATCH_SIZE" or "NONE"."""

    def __init__(self, ignore_label=None, normalize_mode="VALID", bigdl_type="float"):
        super().__init__(None, bigdl_type, ignore_label=ignore_label, normalize_mode=normalize_mode)


class L1HingeEmbeddingCriterion(Criterion):
    """‖x1 - x2‖₁ for a target of 1, max(0, margin - ‖x1 - x2‖₁) for -1, for an input table
    [x1, x2] (summed over rows, one target each)."""

    def __init__(self, margin=1.0, bigdl_type="float"):
        super().__init__(None, bigdl_type, margin=margin)


def _layer_definition(layer, what):
    """A transformer's definition and weights (flat lists), or (None, None)."""
    if layer is None:
        return None, None
    from bigdl.nn.layer import Layer
    if not isinstance(layer, Layer):
        raise ValueError("TransformerCriterion: %s must be a Layer or None, got %r" % (what, layer))
    weights = layer._call("get_weights")[1] or []
    return layer._call("describe")[0], [[float(v) for v in w.reshape(-1)] for w in weights]


class TransformerCriterion(Criterion):
    """criterion(input_transformer(input), target_transformer(target)); the gradient flows
    back through input_transformer. The transformers are copied with their weights when
    the criterion is built, and the criterion never changes those weights."""

    def __init__(self, criterion, input_transformer=None, target_transformer=None, bigdl_type="float"):
        if not isinstance(criterion, Criterion):
            raise ValueError("TransformerCriterion: criterion must be a Criterion, got %r" % (criterion,))
        inp, inp_w = _layer_definition(input_transformer, "input_transformer")
        tgt, tgt_w = _layer_definition(target_transformer, "target_transformer")
        super().__init__(None, bigdl_type, criterion=criterion._spec, input_transformer=inp,
                         input_transformer_weights=inp_w, target_transformer=tgt, target_transformer_weights=tgt_w)


def _inner_criterion(criterion, wrapper):
    if not isinstance(criterion, Criterion):
        raise ValueError("%s: criterion must be a Criterion, got %r" % (wrapper, criterion))
    return criterion._spec


class TimeDistributedCriterion(Criterion):
    """criterion applied to every slice along dimension (1-based; 2: the time steps of
    (batch, time, ...)) of the input and the target, summed; size_average divides by the
    number of steps."""

    def __init__(self, criterion, size_average=False, dimension=2, bigdl_type="float"):
        super().__init__(None, bigdl_type, criterion=_inner_criterion(criterion, "TimeDistributedCriterion"),
                         size_average=size_average, dimension=dimension)


class TimeDistributedMaskCriterion(Criterion):
    """criterion applied to the positions of a (batch, time, ...) input whose (batch, time)
    target is not padding_value: the mean of its per-position losses over those positions;
    padded positions get no gradient."""

    def __init__(self, criterion, padding_value=0, bigdl_type="float"):
        super().__init__(None, bigdl_type, criterion=_inner_criterion(criterion, "TimeDistributedMaskCriterion"),
                         padding_value=padding_value)
