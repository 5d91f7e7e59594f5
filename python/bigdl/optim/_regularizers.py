"""BigDL's regularizers (bigdl.optim.optimizer): attached to a layer's
weights (wRegularizer), biases (bRegularizer) or recurrent weights
(uRegularizer), they add l1·sign(w) + l2·w to the parameter's gradient, once
per mini-batch however many cores and Spark tasks share it."""
from bigdl._specs import Described, number


class Regularizer(Described):
    """A penalty on a layer's parameters."""

    def __init__(self, l1, l2, bigdl_type="float"):
        l1, l2 = number(l1, "%s l1" % type(self).__name__), number(l2, "%s l2" % type(self).__name__)
        if l1 < 0 or l2 < 0:
            raise ValueError("%s: the rates must be ≥ 0, got l1=%r, l2=%r" % (type(self).__name__, l1, l2))
        Described.__init__(self, bigdl_type, l1=l1, l2=l2)


class L1L2Regularizer(Regularizer):
    """l1·sign(w) + l2·w."""

    def __init__(self, l1, l2, bigdl_type="float"):
        super().__init__(l1, l2, bigdl_type)


class L1Regularizer(Regularizer):
    """l1·sign(w)."""

    def __init__(self, l1, bigdl_type="float"):
        super().__init__(l1, 0.0, bigdl_type)


class L2Regularizer(Regularizer):
    """l2·w."""

    def __init__(self, l2, bigdl_type="float"):
        super().__init__(0.0, l2, bigdl_type)


def regularizer_spec(r, what):
    if r is None:
        return None
    if not isinstance(r, Regularizer):
        raise ValueError("%s must be a regularizer such as L2Regularizer(1e-4), got %r" % (what, r))
    return {"l1": r._spec["l1"], "l2": r._spec["l2"]}
