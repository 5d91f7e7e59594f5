"""BigDL's bigdl.nn.initialization_method: how a layer's reset() draws its
weight and bias (layer.set_init_method(weight_init_method, bias_init_method)).

Each is a description the Go core builds from (core/nn/init.go). fan_in and
fan_out are BigDL's for the parameter: for Linear's weight (out, in) they
are in and out; for a bias of n values, n and 1; for a convolution kernel,
in·kh·kw and out·kh·kw. Random draws come from the global generator
(RNG().set_seed), in the parameter's storage order.
"""
from bigdl._specs import Described, number as _number


class InitializationMethod(Described):
    """Initialization method to initialize bias and weight; used by reset()."""


class Zeros(InitializationMethod):
    """Fills with 0."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class Ones(InitializationMethod):
    """Fills with 1."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class ConstInitMethod(InitializationMethod):
    """Fills with value."""

    def __init__(self, value, bigdl_type="float"):
        super().__init__(bigdl_type, value=_number(value, "ConstInitMethod value"))


class RandomUniform(InitializationMethod):
    """U(lower, upper) if both are given (note: upper first), else
    U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""

    def __init__(self, upper=None, lower=None, bigdl_type="float"):
        if upper is not None and lower is not None:
            upper, lower = _number(upper, "RandomUniform upper"), _number(lower, "RandomUniform lower")
            if lower > upper:
                raise ValueError("RandomUniform: lower (%r) must not exceed upper (%r); note upper comes first"
                                 % (lower, upper))
            super().__init__(bigdl_type, upper=upper, lower=lower)
        elif upper is not None or lower is not None:
            raise ValueError("RandomUniform: give both upper and lower, or neither (the fan-in rule)")
        else:
            super().__init__(bigdl_type)


class RandomNormal(InitializationMethod):
    """N(mean, stdv²)."""

    def __init__(self, mean, stdv, bigdl_type="float"):
        stdv = _number(stdv, "RandomNormal stdv")
        if not stdv > 0:
            raise ValueError("RandomNormal stdv must be positive, got %r" % stdv)
        super().__init__(bigdl_type, mean=_number(mean, "RandomNormal mean"), stdv=stdv)


class Xavier(InitializationMethod):
    """U(-s, s), s = sqrt(6 / (fan_in + fan_out))."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class XavierNormal(InitializationMethod):
    """N(0, 2 / (fan_in + fan_out))."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class HeNormal(InitializationMethod):
    """N(0, 2 / fan_in)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class HeUniform(InitializationMethod):
    """U(-s, s), s = sqrt(6 / fan_in)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class LeCunNormal(InitializationMethod):
    """N(0, 1 / fan_in)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class LeCunUniform(InitializationMethod):
    """U(-s, s), s = sqrt(3 / fan_in)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


class MsraFiller(InitializationMethod):
    """N(0, 2 / n), n = (fan_in + fan_out) // 2 if varianceNormAverage, else
    fan_out (as BigDL's engine computes it)."""

    def __init__(self, varianceNormAverage=True, bigdl_type="float"):
        super().__init__(bigdl_type, varianceNormAverage=bool(varianceNormAverage))


class BilinearFiller(InitializationMethod):
    """Bilinear upsampling coefficients, for a 5-D deconvolution kernel
    (group, in, out, kh, kw) with kh == kw."""

    def __init__(self, bigdl_type="float"):
        super().__init__(bigdl_type)


def init_spec(m, what):
    """The spec set_init_method hands the Go core; None keeps the current method."""
    if m is None:
        return None
    if not isinstance(m, InitializationMethod):
        raise ValueError("set_init_method: %s must be an init method such as Xavier() or Zeros(), got %r" % (what, m))
    return m._spec
