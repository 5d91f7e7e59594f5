"""Independent numpy (float64) references for the numeric tests, and the
helpers they share.

Nothing here calls bigdl: every formula is written from the API spec
(../shared/spec/bigdl-api.md §2.3-2.5, §5.3-5.4) or from BigDL's engine
source where the spec defers to it, so that a test compares the Go core
against something it did not produce.
"""
import numpy as np

# ‖ours − ref‖₂ / ‖ref‖₂ bound for forward and backward values.
TOL = 1e-5


def f64(a):
    return np.asarray(a, dtype=np.float64)


def rel_err(ours, ref):
    """‖ours − ref‖₂ / ‖ref‖₂ (the absolute error when ref is zero)."""
    ours, ref = f64(ours), f64(ref)
    den = np.linalg.norm(ref)
    num = np.linalg.norm(ours - ref)
    return num / den if den > 0 else num


def assert_close(ours, ref, tol=TOL, what="value"):
    """Shapes equal and relative L2 error within tol."""
    ours = np.asarray(ours)
    ref = np.asarray(ref)
    assert ours.shape == ref.shape, "%s: shape %s, expected %s" % (what, ours.shape, ref.shape)
    assert np.all(np.isfinite(ours)), "%s: non-finite values %s" % (what, ours)
    e = rel_err(ours, ref)
    assert e <= tol, "%s: relative error %.3g > %.3g\nours=%s\nref=%s" % (what, e, tol, ours, ref)


def rand32(rng, *shape, lo=-1.0, hi=1.0):
    """float32 data; references use the same (exactly representable) values in float64."""
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def away_from_zero(rng, *shape, margin=0.05):
    """Uniform in ±[margin, 1]: no element sits on ReLU's kink or is zero."""
    mag = rng.uniform(margin, 1.0, size=shape)
    sign = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
    return (mag * sign).astype(np.float32)


# Layers ---------------------------------------------------------------------

def linear_forward(x, W, b=None):
    y = f64(x) @ f64(W).T
    return y + f64(b) if b is not None else y


def linear_backward(x, W, gy):
    """(gradInput, gradWeight, gradBias) for y = x Wᵀ + b, x 1-D or 2-D."""
    x, W, gy = f64(x), f64(W), f64(gy)
    gx = gy @ W
    if x.ndim == 1:
        return gx, np.outer(gy, x), gy.copy()
    return gx, gy.T @ x, gy.sum(axis=0)


def relu(x):
    return np.maximum(f64(x), 0.0)


def relu_backward(x, gy):
    return f64(gy) * (f64(x) > 0)


def tanh(x):
    return np.tanh(f64(x))


def tanh_backward(x, gy):
    return f64(gy) * (1.0 - np.tanh(f64(x)) ** 2)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-f64(x)))


def sigmoid_backward(x, gy):
    s = sigmoid(x)
    return f64(gy) * s * (1.0 - s)


def softmax(x):
    x = f64(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(x, gy):
    y, gy = softmax(x), f64(gy)
    return y * (gy - (gy * y).sum(axis=-1, keepdims=True))


def log_softmax(x):
    x = f64(x)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def log_softmax_backward(x, gy):
    gy = f64(gy)
    return gy - softmax(x) * gy.sum(axis=-1, keepdims=True)


def reshape_shape(in_shape, size, batch_mode):
    """BigDL's Reshape.updateOutput (nn/Reshape.scala):

        if ((batchMode.nonEmpty && !batchMode.get) ||
            (input.nElement() == nElement && batchMode.isEmpty && input.size(1) != 1))
          output = input.view(size)
        else
          output = input.view(input.size(1) +: size)   // requires nElement * size(1) elements
    """
    n = int(np.prod(in_shape))
    per = int(np.prod(size))
    if batch_mode is False or (batch_mode is None and n == per and in_shape[0] != 1):
        assert n == per
        return tuple(size)
    assert n == per * in_shape[0]
    return (in_shape[0],) + tuple(size)


def view_shape(in_shape, sizes, num_input_dims=0):
    """BigDL's View (nn/View.scala, a port of Torch's nn.View): batchSize()
    then input.view(bse +: sizes) or input.view(sizes), -1 inferred."""
    ind = len(in_shape)
    num_elements = int(np.prod([s for s in sizes if s != -1]))
    max_dim = ind if num_input_dims == 0 else num_input_dims
    ine = 1
    for i in range(ind - 1, ind - max_dim - 1, -1):
        ine *= in_shape[i]
    assert ine % num_elements == 0
    bse = ine // num_elements
    if -1 in sizes:
        bse = 1
    for i in range(ind - max_dim - 1, -1, -1):
        bse *= in_shape[i]
    out = list(sizes)
    if bse == 1 and (num_input_dims == 0 or ind <= num_input_dims):
        lead = []
    else:
        lead = [bse]
    total = int(np.prod(in_shape))
    if -1 in out:
        known = int(np.prod(lead + [s for s in out if s != -1]))
        out[out.index(-1)] = total // known
    return tuple(lead + out)


# Criteria -------------------------------------------------------------------

def _rows(x):
    x = f64(x)
    return x.reshape(1, -1) if x.ndim == 1 else x


def _targets(t, n):
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    assert t.size == n
    return t.astype(np.int64) - 1  # 1-based labels


def class_nll(x, t, weights=None, size_average=True, log_prob_as_input=True):
    """(loss, gradInput): loss = -Σ w[t_i] lp[i, t_i] / Σ w[t_i] (sum without size_average)."""
    X = _rows(x)
    n, c = X.shape
    ti = _targets(t, n)
    w = np.ones(c) if weights is None else f64(weights)
    wi = w[ti]
    picked = X[np.arange(n), ti]
    lp = picked if log_prob_as_input else np.log(picked)
    norm = wi.sum() if size_average else 1.0
    loss = -(wi * lp).sum() / norm
    g = np.zeros_like(X)
    g[np.arange(n), ti] = -wi / norm if log_prob_as_input else -wi / norm / picked
    return loss, g.reshape(np.shape(x))


def cross_entropy(x, t, weights=None, size_average=True):
    lp = log_softmax(_rows(x))
    loss, g = class_nll(lp, t, weights, size_average)
    return loss, log_softmax_backward(_rows(x), g).reshape(np.shape(x))


def mse(x, y):
    d = f64(x) - f64(y)
    return (d ** 2).mean(), 2.0 * d / d.size


def abs_crit(x, y, size_average=True):
    d = f64(x) - f64(y)
    n = d.size if size_average else 1.0
    return np.abs(d).sum() / n, np.sign(d) / n


def bce(x, y, weights=None, size_average=True):
    """-Σ w (y log x + (1-y) log(1-x)), / element count when size_average;
    per-feature weights broadcast over the batch."""
    x, y = f64(x), f64(y)
    w = np.ones_like(x) if weights is None else np.broadcast_to(f64(weights), x.shape)
    n = x.size if size_average else 1.0
    loss = -(w * (y * np.log(x) + (1 - y) * np.log(1 - x))).sum() / n
    g = -w * (y - x) / (x * (1 - x)) / n
    return loss, g


# Optim methods (spec §5.4; Torch optim) -------------------------------------

class SGDRef(object):
    def __init__(self, learningrate=1e-3, learningrate_decay=0.0, weightdecay=0.0, momentum=0.0,
                 dampening=None, nesterov=False, learningrates=None, weightdecays=None):
        self.lr, self.lrd, self.wd, self.mom = learningrate, learningrate_decay, weightdecay, momentum
        self.damp = momentum if dampening is None else dampening
        self.nesterov = nesterov
        self.lrs = None if learningrates is None else f64(learningrates)
        self.wds = None if weightdecays is None else f64(weightdecays)
        self.t = 0
        self.buf = None

    def step(self, x, g):
        clr = self.lr / (1 + self.t * self.lrd)
        g = g.copy()
        if self.wds is not None:
            g = g + self.wds * x
        elif self.wd > 0:
            g = g + self.wd * x
        if self.mom > 0:
            if self.buf is None:
                self.buf = g.copy()
            else:
                self.buf = self.mom * self.buf + (1 - self.damp) * g
            g = g + self.mom * self.buf if self.nesterov else self.buf.copy()
        x = x - clr * (self.lrs * g if self.lrs is not None else g)
        self.t += 1
        return x


class AdamRef(object):
    def __init__(self, learningrate=1e-3, learningrate_decay=0.0, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.lr, self.lrd, self.b1, self.b2, self.eps = learningrate, learningrate_decay, beta1, beta2, epsilon
        self.t = 0
        self.m = self.v = None

    def step(self, x, g):
        if self.m is None:
            self.m, self.v = np.zeros_like(x), np.zeros_like(x)
        clr = self.lr / (1 + self.t * self.lrd)
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        step = clr * np.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        return x - step * self.m / (np.sqrt(self.v) + self.eps)


class AdagradRef(object):
    def __init__(self, learningrate=1e-3, learningrate_decay=0.0, weightdecay=0.0):
        self.lr, self.lrd, self.wd = learningrate, learningrate_decay, weightdecay
        self.t = 0
        self.acc = None

    def step(self, x, g):
        if self.acc is None:
            self.acc = np.zeros_like(x)
        clr = self.lr / (1 + self.t * self.lrd)
        g = g + self.wd * x
        self.acc = self.acc + g * g
        self.t += 1
        return x - clr * g / (np.sqrt(self.acc) + 1e-10)


class RMSpropRef(object):
    def __init__(self, learningrate=1e-2, learningrate_decay=0.0, decayrate=0.99, epsilon=1e-8):
        self.lr, self.lrd, self.dr, self.eps = learningrate, learningrate_decay, decayrate, epsilon
        self.t = 0
        self.ms = None

    def step(self, x, g):
        if self.ms is None:
            self.ms = np.zeros_like(x)
        clr = self.lr / (1 + self.t * self.lrd)
        self.ms = self.dr * self.ms + (1 - self.dr) * g * g
        self.t += 1
        return x - clr * g / (np.sqrt(self.ms) + self.eps)


def train_linear_mse(W, b, X, Y, method, iterations):
    """Full-batch training of y = x Wᵀ + b under MSE (mean over all
    elements), parameters flattened as [W.ravel(), b] (get_weights order)."""
    W, b, X, Y = f64(W), f64(b), f64(X), f64(Y)
    out_dim, in_dim = W.shape
    x = np.concatenate([W.ravel(), b])
    for _ in range(iterations):
        Wc, bc = x[:out_dim * in_dim].reshape(out_dim, in_dim), x[out_dim * in_dim:]
        out = X @ Wc.T + bc
        gout = 2.0 * (out - Y) / out.size
        g = np.concatenate([(gout.T @ X).ravel(), gout.sum(axis=0)])
        x = method.step(x, g)
    return x[:out_dim * in_dim].reshape(out_dim, in_dim), x[out_dim * in_dim:]


# Finite differences ---------------------------------------------------------

def numeric_grad(f, x, eps):
    """Central differences of the scalar f at the float32 array x (f sees
    float32 perturbations; the quotient is formed in float64)."""
    x = np.array(x, dtype=np.float32)
    g = np.zeros(x.shape, dtype=np.float64)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + np.float32(eps)
        up_step = float(flat[i]) - float(old)
        fp = f(x)
        flat[i] = old - np.float32(eps)
        down_step = float(old) - float(flat[i])
        fm = f(x)
        flat[i] = old
        gflat[i] = (fp - fm) / (up_step + down_step)
    return g


class BigDLStream(object):
    """BigDL's RandomGenerator, rebuilt on numpy's MT19937."""

    def __init__(self, seed):
        self.rs = np.random.RandomState(seed)
        self.cached = None

    def _u(self, n):
        return self.rs.randint(0, 2 ** 32, size=n, dtype=np.uint64).astype(np.float64) / 2.0 ** 32

    def uniform(self, a, b, n):
        return (a + (b - a) * self._u(n)).astype(np.float32)

    def normal(self, mean, stdv, n):
        out = []
        while len(out) < n:
            if self.cached is None:
                x, y = self._u(2)
                rho = np.sqrt(-2 * np.log(1 - y))
                self.cached = (x, rho)
                out.append(rho * np.cos(2 * np.pi * x) * stdv + mean)
            else:
                x, rho = self.cached
                self.cached = None
                out.append(rho * np.sin(2 * np.pi * x) * stdv + mean)
        return np.array(out, dtype=np.float32)
