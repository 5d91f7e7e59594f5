"""The element-wise layers and the simple layers with parameters (BigDL's names and
signatures; bigdl.nn.layer re-exports them). Each is one call into the Go core;
inplace flags are accepted and outputs never overwrite inputs."""
from bigdl.nn.layer import Layer
from bigdl.util.common import DOUBLEMAX


class Threshold(Layer):
    """x where x > th, else v."""

    def __init__(self, th=1e-6, v=0.0, ip=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, th=th, v=v, ip=ip)


class BinaryThreshold(Layer):
    """1 where x > th, else 0 (its gradient is 0)."""

    def __init__(self, th=1e-6, ip=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, th=th, ip=ip)


class ELU(Layer):
    """x where x > 0, else alpha·(exp(x) - 1)."""

    def __init__(self, alpha=1.0, inplace=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, alpha=alpha, inplace=inplace)


class LeakyReLU(Layer):
    """x where x > 0, else negval·x."""

    def __init__(self, negval=0.01, inplace=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, negval=negval, inplace=inplace)


class ReLU6(Layer):
    """min(max(0, x), 6)."""

    def __init__(self, inplace=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, inplace=inplace)


class HardTanh(Layer):
    """x clamped to [min_value, max_value]."""

    def __init__(self, min_value=-1.0, max_value=1.0, inplace=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, min_value=min_value, max_value=max_value, inplace=inplace)


class Clamp(Layer):
    """x clamped to [min, max]."""

    def __init__(self, min, max, bigdl_type="float"):
        super().__init__(None, bigdl_type, min=min, max=max)


class SoftPlus(Layer):
    """log(1 + exp(beta·x)) / beta (x itself where beta·x > 20)."""

    def __init__(self, beta=1.0, bigdl_type="float"):
        super().__init__(None, bigdl_type, beta=beta)


class SoftSign(Layer):
    """x / (1 + |x|)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class SoftShrink(Layer):
    """x - λ where x > λ, x + λ where x < -λ, else 0."""

    def __init__(self, the_lambda=0.5, bigdl_type="float"):
        super().__init__(None, bigdl_type, the_lambda=the_lambda)


class HardShrink(Layer):
    """x where |x| > λ, else 0."""

    def __init__(self, the_lambda=0.5, bigdl_type="float"):
        super().__init__(None, bigdl_type, the_lambda=the_lambda)


class HardSigmoid(Layer):
    """0.2·x + 0.5 clipped to [0, 1]."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class LogSigmoid(Layer):
    """log(1 / (1 + exp(-x)))."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class TanhShrink(Layer):
    """x - tanh(x)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Abs(Layer):
    """|x|."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Exp(Layer):
    """exp(x)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Log(Layer):
    """log(x)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Sqrt(Layer):
    """sqrt(x)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Square(Layer):
    """x²."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Power(Layer):
    """(shift + scale·x) ^ power."""

    def __init__(self, power, scale=1.0, shift=0.0, bigdl_type="float"):
        super().__init__(None, bigdl_type, power=power, scale=scale, shift=shift)


class MulConstant(Layer):
    """x · scalar."""

    def __init__(self, scalar, inplace=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, scalar=scalar, inplace=inplace)


class AddConstant(Layer):
    """x + constant_scalar."""

    def __init__(self, constant_scalar, inplace=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, constant_scalar=constant_scalar, inplace=inplace)


class Negative(Layer):
    """-x."""

    def __init__(self, inplace=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, inplace=inplace)


class GradientReversal(Layer):
    """The identity forward; backward multiplies the gradient by -the_lambda."""

    def __init__(self, the_lambda=1.0, bigdl_type="float"):
        super().__init__(None, bigdl_type, the_lambda=the_lambda)


class PReLU(Layer):
    """x where x > 0, else w·x with a learned slope w (init 0.25): one shared when
    n_output_plane is 0, else one per channel (dim 1 of a sample, dim 2 of a batch)."""

    def __init__(self, n_output_plane=0, bigdl_type="float"):
        super().__init__(None, bigdl_type, n_output_plane=n_output_plane)


class RReLU(Layer):
    """x where x > 0, else a·x with a ~ U(lower, upper) per element in training and
    a = (lower + upper) / 2 in evaluation."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, lower=lower, upper=upper, inplace=inplace)


class SoftMin(Layer):
    """The softmax of -x over the last dimension of 1-D or 2-D input."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Normalize(Layer):
    """x / (Σ|x|^p + eps)^(1/p) over the features of each sample (the channels of
    (batch, c, h, w)); p = DOUBLEMAX (or inf) is the max norm."""

    def __init__(self, p, eps=1e-10, bigdl_type="float"):
        super().__init__(None, bigdl_type, p=DOUBLEMAX if p == float("inf") else p, eps=eps)


class GaussianDropout(Layer):
    """x·ε with ε ~ N(1, rate / (1 - rate)) per element in training; the identity in evaluation."""

    def __init__(self, rate, bigdl_type="float"):
        super().__init__(None, bigdl_type, rate=rate)


class GaussianNoise(Layer):
    """x + ε with ε ~ N(0, stddev²) per element in training; the identity in evaluation."""

    def __init__(self, stddev, bigdl_type="float"):
        super().__init__(None, bigdl_type, stddev=stddev)


class Masking(Layer):
    """Zeroes each time step of (batch, time, features) whose features all equal mask_value."""

    def __init__(self, mask_value, bigdl_type="float"):
        super().__init__(None, bigdl_type, mask_value=mask_value)


def _sizes(size, what):
    size = [size] if isinstance(size, int) else list(size)
    if not size or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in size):
        raise ValueError("%s: size must be a positive integer or a non-empty list of them, got %r" % (what, size))
    return size


class CMul(Layer):
    """x · w with a learned weight of shape size, broadcast over the input (a batch
    dimension, or any dimension where size is 1)."""

    def __init__(self, size, wRegularizer=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, size=_sizes(size, "CMul"))
        self._set_regularizers(wRegularizer, None)


class CAdd(Layer):
    """x + b with a learned bias of shape size, broadcast over the input."""

    def __init__(self, size, bRegularizer=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, size=_sizes(size, "CAdd"))
        self._set_regularizers(None, bRegularizer)


class Scale(Layer):
    """x · w + b with a learned weight and bias of shape size, broadcast over the input."""

    def __init__(self, size, bigdl_type="float"):
        super().__init__(None, bigdl_type, size=_sizes(size, "Scale"))


class Add(Layer):
    """x + b with a learned bias of input_size, added to every row."""

    def __init__(self, input_size, bigdl_type="float"):
        super().__init__(None, bigdl_type, input_size=input_size)


class Mul(Layer):
    """x · w with one learned scalar w."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Bilinear(Layer):
    """y_k = x1ᵀ W_k x2 + b_k for an input table [x1 (batch, input_size1), x2 (batch,
    input_size2)]; W is (output_size, input_size1, input_size2)."""

    def __init__(self, input_size1, input_size2, output_size, bias_res=True, wRegularizer=None, bRegularizer=None,
                 bigdl_type="float"):
        super().__init__(None, bigdl_type, input_size1=input_size1, input_size2=input_size2, output_size=output_size,
                         bias_res=bias_res)
        self._set_regularizers(wRegularizer, bRegularizer if bias_res else None)


class Cosine(Layer):
    """The cosine similarity of each input row to output_size learned centres (weight
    (output_size, input_size))."""

    def __init__(self, input_size, output_size, bigdl_type="float"):
        super().__init__(None, bigdl_type, input_size=input_size, output_size=output_size)


class Euclidean(Layer):
    """The Euclidean distance of each input row to output_size learned centres (weight
    (input_size, output_size), BigDL's layout); fast_backward is accepted."""

    def __init__(self, input_size, output_size, fast_backward=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, input_size=input_size, output_size=output_size,
                         fast_backward=fast_backward)


class MM(Layer):
    """op(A)·op(B) for a table [A, B] of matrices, or of batches (batch, m, k) and
    (batch, k, n); op transposes with trans_a / trans_b."""

    def __init__(self, trans_a=False, trans_b=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, trans_a=trans_a, trans_b=trans_b)


class MV(Layer):
    """op(M)·v for a table [M, v] of a matrix and a vector, or of batches of them; op
    transposes with trans."""

    def __init__(self, trans=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, trans=trans)


class DotProduct(Layer):
    """The dot product of the rows of a table [a, b]: (batch,) for (batch, d) inputs."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class CosineDistance(Layer):
    """The cosine similarity of the rows of a table [a, b]: (batch,) for (batch, d) inputs."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class PairwiseDistance(Layer):
    """The L_norm distance between the rows of a table [a, b]: (batch,) for (batch, d) inputs."""

    def __init__(self, norm=2, bigdl_type="float"):
        super().__init__(None, bigdl_type, norm=norm)


class Maxout(Layer):
    """Linear(input_size, output_size · maxout_number), then for each output j the largest
    of the linear outputs k·output_size + j (BigDL's grouping)."""

    def __init__(self, input_size, output_size, maxout_number, with_bias=True, w_regularizer=None,
                 b_regularizer=None, init_weight=None, init_bias=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, input_size=input_size, output_size=output_size,
                         maxout_number=maxout_number, with_bias=with_bias)
        self._set_regularizers(w_regularizer, b_regularizer if with_bias else None)
        if init_weight is not None or init_bias is not None:
            weights = self.get_weights()
            if init_weight is not None:
                weights[0] = init_weight
            if init_bias is not None:
                if not with_bias:
                    raise ValueError("Maxout: init_bias given but with_bias is False")
                weights[1] = init_bias
            self.set_weights(weights)


_ACTIVATIONS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "ReLU", "softmax": "SoftMax", "softplus": "SoftPlus",
                "softsign": "SoftSign", "hard_sigmoid": "HardSigmoid", "relu6": "ReLU6", "elu": "ELU"}


class Highway(Layer):
    """y = g·a(W2 x + b2) + (1 - g)·x with the gate g = sigmoid(W1 x + b1) and an optional
    activation a (a layer without parameters, or its name: "tanh", "relu", ...); weights in
    the order W1, b1, W2, b2."""

    def __init__(self, size, with_bias=True, activation=None, wRegularizer=None, bRegularizer=None,
                 bigdl_type="float"):
        if isinstance(activation, str):
            if activation.lower() == "linear":
                activation = None
            elif activation.lower() not in _ACTIVATIONS:
                raise ValueError("Highway: unknown activation %r; expected a layer or one of %s"
                                 % (activation, ", ".join(sorted(_ACTIVATIONS))))
            else:
                activation = _classes_by_name(_ACTIVATIONS[activation.lower()])()
        if activation is not None and not isinstance(activation, Layer):
            raise ValueError("Highway: activation must be a Layer, a name or None, got %r" % (activation,))
        spec = activation._call("describe")[0] if activation is not None else None
        super().__init__(None, bigdl_type, size=size, with_bias=with_bias, activation=spec)
        self._set_regularizers(wRegularizer, bRegularizer if with_bias else None)


def _classes_by_name(name):
    import bigdl.nn.layer as layer
    return getattr(layer, name)


class SReLU(Layer):
    """The S-shaped ReLU: x between learned thresholds tl and tr, lines of learned slopes al
    below tl and ar above tr; each parameter has the sample's shape input_shape (1 along
    the 1-based share_axes). Input (batch, *input_shape); weights [tl, al, tr, ar]."""

    def __init__(self, input_shape, share_axes=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, input_shape=_sizes(input_shape, "SReLU"),
                         share_axes=None if share_axes is None else list(share_axes))
