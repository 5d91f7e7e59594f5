"""Forward and backward of every T1 layer against independent numpy (float64)
references, parameter gradients and their accumulation, Dropout's mask, and
finite-difference gradient checks through the Python API."""
import numpy as np
import pytest

from bigdl.nn.criterion import ClassNLLCriterion
from bigdl.nn.layer import (Dropout, Identity, Linear, LogSoftMax, ReLU, Reshape, Sequential, Sigmoid, SoftMax,
                            Tanh, View)
from bigdl.util.common import RNG

import _reference as ref
from _reference import assert_close, away_from_zero, rand32


@pytest.fixture
def rng():
    return np.random.RandomState(20240607)


def only_entry(layer):
    """The single {param: array} entry of a one-layer parameters() dict."""
    params = layer.parameters()
    assert list(params) == [layer.name()], "parameters() keys %s, expected [%r]" % (list(params), layer.name())
    return params[layer.name()]


# Linear ---------------------------------------------------------------------

LINEAR_SHAPES = [  # (batch or None for 1-D, in, out): awkward sizes for the GEMM kernels
    (None, 5, 3), (None, 1, 1), (1, 1, 1), (4, 5, 3), (7, 17, 5), (33, 255, 17), (64, 130, 70)]


@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("n,d_in,d_out", LINEAR_SHAPES)
def test_linear_forward_backward(rng, n, d_in, d_out, with_bias):
    layer = Linear(d_in, d_out, with_bias=with_bias)
    weights = layer.get_weights()
    assert len(weights) == (2 if with_bias else 1)
    W = weights[0]
    b = weights[1] if with_bias else None
    assert W.shape == (d_out, d_in)
    if with_bias:
        assert b.shape == (d_out,)
    x = rand32(rng, d_in) if n is None else rand32(rng, n, d_in)
    y = layer.forward(x)
    assert y.dtype == np.float32
    assert_close(y, ref.linear_forward(x, W, b), what="Linear forward")

    gy = rand32(rng, *y.shape)
    layer.zero_grad_parameters()
    layer.forward(x)
    gx = layer.backward(x, gy)
    gx_ref, gw_ref, gb_ref = ref.linear_backward(x, W, gy)
    assert_close(gx, gx_ref, what="Linear gradInput")
    p = only_entry(layer)
    assert_close(p["weight"], W, what="parameters()['weight']")
    assert_close(p["gradWeight"], gw_ref, what="Linear gradWeight")
    if with_bias:
        assert_close(p["bias"], b, what="parameters()['bias']")
        assert_close(p["gradBias"], gb_ref, what="Linear gradBias")
    else:
        assert "bias" not in p and "gradBias" not in p


@pytest.mark.parametrize("one_d", [False, True], ids=["2d", "1d"])
def test_linear_backward_accumulates_and_zero_grad_resets(rng, one_d):
    layer = Linear(6, 4)
    W, b = layer.get_weights()
    x = rand32(rng, 6) if one_d else rand32(rng, 5, 6)
    gy = rand32(rng, 4) if one_d else rand32(rng, 5, 4)
    _, gw_ref, gb_ref = ref.linear_backward(x, W, gy)

    layer.zero_grad_parameters()
    layer.forward(x)
    layer.backward(x, gy)
    p1 = only_entry(layer)
    assert_close(p1["gradWeight"], gw_ref, what="gradWeight after one backward")
    layer.forward(x)
    gx2 = layer.backward(x, gy)
    p2 = only_entry(layer)
    assert_close(p2["gradWeight"], 2 * gw_ref, what="gradWeight after two backwards (must accumulate)")
    assert_close(p2["gradBias"], 2 * gb_ref, what="gradBias after two backwards (must accumulate)")
    # gradInput does not accumulate
    assert_close(gx2, ref.linear_backward(x, W, gy)[0], what="gradInput of the second backward")

    # a different batch accumulates its own gradient on top
    x3, gy3 = rand32(rng, *x.shape), rand32(rng, *gy.shape)
    layer.forward(x3)
    layer.backward(x3, gy3)
    _, gw3, gb3 = ref.linear_backward(x3, W, gy3)
    p3 = only_entry(layer)
    assert_close(p3["gradWeight"], 2 * gw_ref + gw3, what="gradWeight accumulated over different inputs")
    assert_close(p3["gradBias"], 2 * gb_ref + gb3, what="gradBias accumulated over different inputs")

    layer.zero_grad_parameters()
    p0 = only_entry(layer)
    assert np.all(p0["gradWeight"] == 0) and np.all(p0["gradBias"] == 0)
    # weights untouched by backward / zero_grad_parameters
    assert_close(p0["weight"], W, tol=0)
    assert_close(p0["bias"], b, tol=0)


def test_linear_set_weights_then_forward(rng):
    layer = Linear(3, 2)
    W = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]], dtype=np.float32)
    b = np.array([0.1, -0.2], dtype=np.float32)
    layer.set_weights([W, b])
    x = rand32(rng, 4, 3)
    assert_close(layer.forward(x), ref.linear_forward(x, W, b), what="forward with set_weights")
    nobias = Linear(3, 2, with_bias=False)
    nobias.set_weights([W])
    assert_close(nobias.forward(x), ref.linear_forward(x, W), what="no-bias forward with set_weights")


def test_linear_init_weight_and_init_bias(rng):
    W = rand32(rng, 2, 3)
    b = rand32(rng, 2)
    layer = Linear(3, 2, init_weight=W, init_bias=b)
    x = rand32(rng, 3)
    assert_close(layer.forward(x), ref.linear_forward(x, W, b), what="forward with init_weight/init_bias")


def test_linear_update_parameters(rng):
    layer = Linear(4, 3)
    W, b = layer.get_weights()
    x, gy = rand32(rng, 6, 4), rand32(rng, 6, 3)
    layer.zero_grad_parameters()
    layer.forward(x)
    layer.backward(x, gy)
    _, gw, gb = ref.linear_backward(x, W, gy)
    layer.update_parameters(0.3)
    W2, b2 = layer.get_weights()
    assert_close(W2, ref.f64(W) - 0.3 * gw, what="weight after update_parameters(0.3)")
    assert_close(b2, ref.f64(b) - 0.3 * gb, what="bias after update_parameters(0.3)")


def test_linear_default_init_range():
    # spec §2.3/§5.5: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias
    layer = Linear(400, 300)
    W, b = layer.get_weights()
    bound = 1 / np.sqrt(400)
    for name, a in (("weight", W), ("bias", b)):
        assert np.all(np.abs(a) <= bound + 1e-7), "%s outside ±%g" % (name, bound)
    # the draw is uniform on the whole range, not a fraction of it
    assert np.abs(W).max() > 0.95 * bound and W.min() < -0.95 * bound
    assert abs(W.mean()) < 0.01 * bound
    assert abs(W.std() - bound / np.sqrt(3)) < 0.02 * bound


# Element-wise activations and softmaxes --------------------------------------

ACTIVATIONS = [
    ("ReLU", lambda: ReLU(), ref.relu, ref.relu_backward),
    ("ReLU_ip", lambda: ReLU(True), ref.relu, ref.relu_backward),
    ("Tanh", lambda: Tanh(), ref.tanh, ref.tanh_backward),
    ("Sigmoid", lambda: Sigmoid(), ref.sigmoid, ref.sigmoid_backward),
    ("SoftMax", lambda: SoftMax(), ref.softmax, ref.softmax_backward),
    ("LogSoftMax", lambda: LogSoftMax(), ref.log_softmax, ref.log_softmax_backward),
    ("Identity", lambda: Identity(), ref.f64, lambda x, gy: ref.f64(gy)),
]


@pytest.mark.parametrize("shape", [(7,), (1, 7), (5, 7), (3, 1), (16, 33)], ids=str)
@pytest.mark.parametrize("name,make,fwd,bwd", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_forward_backward(rng, name, make, fwd, bwd, shape):
    layer = make()
    x = away_from_zero(rng, *shape) * np.float32(3)
    x_before = x.copy()
    y = layer.forward(x)
    assert y.dtype == np.float32
    assert_close(y, fwd(x), what="%s forward" % name)
    gy = rand32(rng, *shape)
    gx = layer.backward(x, gy)
    assert_close(gx, bwd(x, gy), what="%s backward" % name)
    np.testing.assert_array_equal(x, x_before, err_msg="%s modified the caller's input array" % name)


def test_activations_have_no_parameters():
    for _, make, _, _ in ACTIVATIONS:
        layer = make()
        assert layer.parameters() == {} or all(v == {} for v in layer.parameters().values())
        assert layer.is_with_weights() is False


@pytest.mark.parametrize("cls,fwd,bwd", [(SoftMax, ref.softmax, ref.softmax_backward),
                                         (LogSoftMax, ref.log_softmax, ref.log_softmax_backward)],
                         ids=["SoftMax", "LogSoftMax"])
def test_softmax_is_stable_for_large_inputs(rng, cls, fwd, bwd):
    # exp(100) overflows float32: a naive implementation gives inf/nan here
    x = (rand32(rng, 4, 6) * 5 + np.float32(100)).astype(np.float32)
    x[1] -= 200  # a row of large negatives: exp underflows to 0 without the max shift
    layer = cls()
    y = layer.forward(x)
    assert_close(y, fwd(x), what="%s forward at |x|≈100" % cls.__name__)
    gy = rand32(rng, 4, 6)
    assert_close(layer.backward(x, gy), bwd(x, gy), what="%s backward at |x|≈100" % cls.__name__)


def test_softmax_rows_are_distributions(rng):
    x = rand32(rng, 9, 5) * 4
    p = SoftMax().forward(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    lp = LogSoftMax().forward(x)
    np.testing.assert_allclose(np.exp(lp.astype(np.float64)).sum(axis=1), 1.0, rtol=1e-6)


# Dropout --------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(9,), (6, 11)], ids=str)
def test_dropout_eval_mode_is_identity(rng, shape):
    layer = Dropout(0.5)
    layer.evaluate()
    assert layer.is_training() is False
    x = rand32(rng, *shape)
    np.testing.assert_array_equal(layer.forward(x), x)
    gy = rand32(rng, *shape)
    np.testing.assert_array_equal(layer.backward(x, gy), gy)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.75])
def test_dropout_training_mask_statistics_scaling_and_backward(rng, p):
    layer = Dropout(p)
    assert layer.is_training() is True  # a fresh layer trains
    n_rows, n_cols = 200, 500
    x = rand32(rng, n_rows, n_cols, lo=0.5, hi=1.5)  # never zero, so out != 0 ⇔ kept
    out = layer.forward(x)
    assert out.shape == x.shape
    kept = out != 0
    n = kept.size
    frac_dropped = 1 - kept.mean()
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(frac_dropped - p) < 5 * sigma, "dropped fraction %.4f, expected %.2f ± %.4f" % (frac_dropped, p, 5 * sigma)
    # dropping is per element: every row and every column sees about the same rate
    row_rates = 1 - kept.mean(axis=1)
    col_rates = 1 - kept.mean(axis=0)
    assert np.abs(row_rates - p).max() < 6 * np.sqrt(p * (1 - p) / n_cols)
    assert np.abs(col_rates - p).max() < 6 * np.sqrt(p * (1 - p) / n_rows)
    # survivors are scaled by 1/(1-p)
    assert_close(out[kept], ref.f64(x[kept]) / (1 - p), what="Dropout survivors (scaled by 1/(1-p))")
    # backward uses the forward's mask
    gy = rand32(rng, n_rows, n_cols)
    gx = layer.backward(x, gy)
    expected = ref.f64(gy) * kept / (1 - p)
    assert_close(gx, expected, what="Dropout gradInput = gradOutput * mask / (1-p)")
    # a second backward (no new forward) still uses the same mask
    assert_close(layer.backward(x, gy), expected, what="Dropout gradInput of a repeated backward")
    # a new forward draws a new mask
    out2 = layer.forward(x)
    assert np.any((out2 != 0) != kept), "two forwards in training mode gave the same mask"


def test_dropout_without_scale_keeps_values(rng):
    p = 0.4
    layer = Dropout(p, scale=False)
    x = rand32(rng, 100, 100, lo=0.5, hi=1.5)
    out = layer.forward(x)
    kept = out != 0
    assert abs((1 - kept.mean()) - p) < 5 * np.sqrt(p * (1 - p) / kept.size)
    np.testing.assert_array_equal(out[kept], x[kept])
    gy = rand32(rng, 100, 100)
    np.testing.assert_array_equal(layer.backward(x, gy), gy * kept)


def test_dropout_training_switch_back(rng):
    layer = Dropout(0.5)
    x = rand32(rng, 50, 40, lo=0.5, hi=1.5)
    layer.evaluate()
    np.testing.assert_array_equal(layer.forward(x), x)
    layer.training()
    out = layer.forward(x)
    assert 0.3 < (out == 0).mean() < 0.7


def test_dropout_mask_is_reproducible_after_seeding(rng):
    # spec §1.7/§5.6: one global MT19937 drives Dropout; RNG().set_seed reseeds it
    x = rand32(rng, 20, 30, lo=0.5, hi=1.5)
    layer = Dropout(0.5)
    RNG().set_seed(1234)
    a = layer.forward(x)
    RNG().set_seed(1234)
    b = layer.forward(x)
    np.testing.assert_array_equal(a, b)
    RNG().set_seed(4321)
    c = layer.forward(x)
    assert np.any(a != c)


# Reshape and View -----------------------------------------------------------

RESHAPE_CASES = [  # (input shape, size, batch_mode)
    ((6,), [2, 3], None),
    ((2, 3), [3, 2], None),
    ((4, 6), [2, 3], None),
    ((4, 2, 3), [6], None),
    ((5, 12), [3, 2, 2], None),
    ((1, 6), [2, 3], True),
    ((4, 6), [3, 2], True),
    ((4, 6), [6], True),
    ((4, 6), [24], False),
    ((4, 6), [8, 3], False),
    ((2, 3, 4), [4, 6], False),
    # BigDL: with batch_mode None a leading dim of 1 is a batch (Reshape.scala: input.size(1) != 1)
    ((1, 6), [2, 3], None),
    ((1, 2, 2), [4], None),
]


def check_reshaping(layer, rng, in_shape, out_shape):
    """A reshaping layer moves values unchanged, forward and backward."""
    x = rand32(rng, *in_shape)
    y = layer.forward(x)
    assert y.shape == out_shape, "%s of %s gave %s, expected %s" % (layer, in_shape, y.shape, out_shape)
    np.testing.assert_array_equal(y, x.reshape(out_shape))
    gy = rand32(rng, *out_shape)
    gx = layer.backward(x, gy)
    assert gx.shape == x.shape
    np.testing.assert_array_equal(gx, gy.reshape(in_shape))


@pytest.mark.parametrize("in_shape,size,batch_mode", RESHAPE_CASES, ids=str)
def test_reshape_forward_backward(rng, in_shape, size, batch_mode):
    check_reshaping(Reshape(size, batch_mode), rng, in_shape, ref.reshape_shape(in_shape, size, batch_mode))


def test_reshape_batch_of_one_predicts_like_bigger_batches(rng):
    """A model starting with Reshape must give a (1, out) output for one
    record, or predict()/evaluate() break on a last batch of one record."""
    model = Sequential().add(Reshape([4])).add(Linear(4, 3))
    W, b = model.get_weights()
    x = rand32(rng, 1, 2, 2)
    y = model.forward(x)
    assert y.shape == (1, 3), "Sequential(Reshape([4]), Linear(4,3)) of shape (1,2,2) gave %s" % (y.shape,)
    assert_close(y, ref.linear_forward(x.reshape(1, 4), W, b))
    pred = model.predict(rand32(rng, 5, 2, 2), batch_size=2)  # last batch holds one record
    assert pred.shape == (5, 3)


VIEW_CASES = [  # (input shape, sizes, num_input_dims)
    ((3, 4), [2, -1], 0),
    ((3, 4), [-1], 0),
    ((3, 4), [-1, 2], 0),
    ((3, 4), [12], 0),
    ((4, 6), [2, 3], 0),
    ((5, 3, 4), [12], 0),
    ((1, 6), [6], 0),
    ((5, 3, 4), [12], 2),
    ((5, 3, 4), [-1], 2),
    ((5, 3, 4), [-1, 2], 2),
    ((3, 4), [12], 2),
    ((3, 4), [2, -1], 2),
    ((1, 3, 4), [12], 2),
    ((1, 6), [6], 1),
    ((3, 4), [3], 2),
    # more leading dims than num_input_dims: all of them fold into the batch (Torch/BigDL View)
    ((2, 3, 4), [-1], 1),
    ((2, 3, 4), [4], 2),
]


@pytest.mark.parametrize("in_shape,sizes,num_input_dims", VIEW_CASES, ids=str)
def test_view_forward_backward(rng, in_shape, sizes, num_input_dims):
    check_reshaping(View(sizes, num_input_dims), rng, in_shape, ref.view_shape(in_shape, sizes, num_input_dims))


# Sequential -----------------------------------------------------------------

def _mlp():
    l1 = Linear(5, 4).set_name("fc1")
    l2 = Linear(4, 3).set_name("fc2")
    model = Sequential().add(l1).add(Tanh()).add(l2).add(LogSoftMax())
    return model


def _mlp_reference(x, W1, b1, W2, b2, gy):
    h = ref.linear_forward(x, W1, b1)
    a = ref.tanh(h)
    z = ref.linear_forward(a, W2, b2)
    y = ref.log_softmax(z)
    gz = ref.log_softmax_backward(z, gy)
    ga, gW2, gb2 = ref.linear_backward(a, W2, gz)
    gh = ref.tanh_backward(h, ga)
    gx, gW1, gb1 = ref.linear_backward(x, W1, gh)
    return y, gx, (gW1, gb1, gW2, gb2)


@pytest.mark.parametrize("one_d", [False, True], ids=["2d", "1d"])
def test_sequential_forward_backward_and_param_grads(rng, one_d):
    model = _mlp()
    W1, b1, W2, b2 = model.get_weights()
    assert W1.shape == (4, 5) and b1.shape == (4,) and W2.shape == (3, 4) and b2.shape == (3,)
    x = rand32(rng, 5) if one_d else rand32(rng, 8, 5)
    gy = rand32(rng, 3) if one_d else rand32(rng, 8, 3)
    y_ref, gx_ref, grads_ref = _mlp_reference(x, W1, b1, W2, b2, gy)

    model.zero_grad_parameters()
    assert_close(model.forward(x), y_ref, what="Sequential forward")
    assert_close(model.backward(x, gy), gx_ref, what="Sequential gradInput")
    params = model.parameters()
    assert set(params) == {"fc1", "fc2"}
    gW1, gb1, gW2, gb2 = grads_ref
    assert_close(params["fc1"]["gradWeight"], gW1, what="fc1 gradWeight")
    assert_close(params["fc1"]["gradBias"], gb1, what="fc1 gradBias")
    assert_close(params["fc2"]["gradWeight"], gW2, what="fc2 gradWeight")
    assert_close(params["fc2"]["gradBias"], gb2, what="fc2 gradBias")

    model.forward(x)
    model.backward(x, gy)
    params = model.parameters()
    assert_close(params["fc1"]["gradWeight"], 2 * gW1, what="fc1 gradWeight after two backwards")
    assert_close(params["fc2"]["gradBias"], 2 * gb2, what="fc2 gradBias after two backwards")

    model.zero_grad_parameters()
    for entry in model.parameters().values():
        assert np.all(entry["gradWeight"] == 0) and np.all(entry["gradBias"] == 0)


def test_sequential_with_every_simple_layer(rng):
    model = (Sequential().add(View([-1], 2)).add(Linear(12, 6)).add(ReLU()).add(Dropout(0.5)).add(Identity())
             .add(Reshape([2, 3])).add(Reshape([6])).add(Sigmoid()).add(Linear(6, 4)).add(SoftMax()))
    model.evaluate()  # Dropout off
    W1, b1, W2, b2 = model.get_weights()
    x = rand32(rng, 7, 3, 4)
    xf = x.reshape(7, 12)
    h = ref.linear_forward(xf, W1, b1)
    r = ref.relu(h)
    s = ref.sigmoid(r)
    z = ref.linear_forward(s, W2, b2)
    y_ref = ref.softmax(z)
    assert_close(model.forward(x), y_ref, what="deep Sequential forward")
    gy = rand32(rng, 7, 4)
    gz = ref.softmax_backward(z, gy)
    gs, gW2, gb2 = ref.linear_backward(s, W2, gz)
    gr = ref.sigmoid_backward(r, gs)
    gh = ref.relu_backward(h, gr)
    gx, gW1, gb1 = ref.linear_backward(xf, W1, gh)
    model.zero_grad_parameters()
    gx_ours = model.backward(x, gy)
    assert_close(gx_ours, gx.reshape(x.shape), what="deep Sequential gradInput")
    grads = [e[k] for e in model.parameters().values() for k in ("gradWeight", "gradBias")]
    for ours, want, what in zip(grads, (gW1, gb1, gW2, gb2), ("gW1", "gb1", "gW2", "gb2")):
        assert_close(ours, want, what=what)


def test_sequential_get_set_weights_order(rng):
    model = _mlp()
    new = [rand32(rng, 4, 5), rand32(rng, 4), rand32(rng, 3, 4), rand32(rng, 3)]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    params = model.parameters()
    np.testing.assert_array_equal(params["fc1"]["weight"], new[0])
    np.testing.assert_array_equal(params["fc2"]["bias"], new[3])
    x = rand32(rng, 3, 5)
    y_ref, _, _ = _mlp_reference(x, *new, gy=np.zeros((3, 3)))
    assert_close(model.forward(x), y_ref)


# Finite differences through the Python API ----------------------------------

FD_EPS = 1e-2
FD_TOL = 1e-2  # relative L2; a wrong formula is off by O(1)


def _fd_check_input(layer, x, rng, eps=FD_EPS, tol=FD_TOL):
    r = ref.f64(rand32(rng, *layer.forward(x).shape))

    def f(xx):
        return float((ref.f64(layer.forward(xx)) * r).sum())

    layer.forward(x)
    analytic = layer.backward(x, r.astype(np.float32))
    numeric = ref.numeric_grad(f, x, eps)
    assert_close(analytic, numeric, tol=tol, what="gradInput vs finite differences")


FD_LAYERS = [
    ("Linear", lambda: Linear(4, 3), (5, 4)),
    ("Linear1d", lambda: Linear(4, 3), (4,)),
    ("LinearNoBias", lambda: Linear(4, 3, with_bias=False), (5, 4)),
    ("ReLU", lambda: ReLU(), (4, 6)),
    ("Tanh", lambda: Tanh(), (4, 6)),
    ("Sigmoid", lambda: Sigmoid(), (4, 6)),
    ("SoftMax", lambda: SoftMax(), (4, 6)),
    ("SoftMax1d", lambda: SoftMax(), (6,)),
    ("LogSoftMax", lambda: LogSoftMax(), (4, 6)),
    ("LogSoftMax1d", lambda: LogSoftMax(), (6,)),
]


@pytest.mark.parametrize("name,make,shape", FD_LAYERS, ids=[c[0] for c in FD_LAYERS])
def test_finite_difference_gradinput(rng, name, make, shape):
    # inputs at least 0.1 from 0 keep ReLU's kink outside the ±eps stencil
    x = away_from_zero(rng, *shape, margin=0.1) * np.float32(2)
    _fd_check_input(make(), x, rng)


def _fd_check_params(model, loss_of_output, grad_of_output, x, eps=FD_EPS, tol=FD_TOL):
    """Compares every parameter gradient with central differences of the
    scalar loss, perturbing weights through set_weights."""
    weights = [w.copy() for w in model.get_weights()]
    model.zero_grad_parameters()
    out = model.forward(x)
    model.backward(x, grad_of_output(out))
    analytic = [e[k] for e in model.parameters().values() for k in ("gradWeight", "gradBias") if k in e]
    assert len(analytic) == len(weights)
    for i, w in enumerate(weights):
        def f(wi, i=i):
            ws = list(weights)
            ws[i] = wi
            model.set_weights(ws)
            return loss_of_output(model.forward(x))

        numeric = ref.numeric_grad(f, w, eps)
        model.set_weights(weights)
        assert_close(analytic[i], numeric, tol=tol, what="parameter %d gradient vs finite differences" % i)


@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "nobias"])
def test_finite_difference_linear_params(rng, with_bias):
    layer = Linear(4, 3, with_bias=with_bias)
    x = rand32(rng, 6, 4)
    r = rand32(rng, 6, 3)
    _fd_check_params(layer, lambda out: float((ref.f64(out) * r).sum()), lambda out: r, x)


def test_finite_difference_sequential_with_criterion(rng):
    model = Sequential().add(Linear(5, 6)).add(Tanh()).add(Linear(6, 4)).add(Sigmoid()).add(Linear(4, 3)) \
        .add(LogSoftMax())
    crit = ClassNLLCriterion()
    x = rand32(rng, 7, 5) * 2
    t = np.array([1, 3, 2, 3, 1, 2, 2], dtype=np.float32)

    _fd_check_params(model, lambda out: crit.forward(out, t), lambda out: crit.backward(out, t), x)

    # and the input gradient through the whole chain
    def f(xx):
        return crit.forward(model.forward(xx), t)

    out = model.forward(x)
    gx = model.backward(x, crit.backward(out, t))
    assert_close(gx, ref.numeric_grad(f, x, FD_EPS), tol=FD_TOL, what="Sequential+ClassNLL gradInput vs FD")


def test_finite_difference_detects_a_wrong_gradient(rng):
    """The FD check itself can fail: a gradient scaled by 1.05 must not pass."""
    layer = Tanh()
    x = rand32(rng, 4, 5)
    r = rand32(rng, 4, 5)
    layer.forward(x)
    wrong = layer.backward(x, r) * np.float32(1.05)
    numeric = ref.numeric_grad(lambda xx: float((ref.f64(layer.forward(xx)) * r).sum()), x, FD_EPS)
    assert ref.rel_err(wrong, numeric) > FD_TOL


# Optional cross-check with PyTorch ------------------------------------------

def test_torch_cross_check_linear_logsoftmax_nll(rng):
    torch = pytest.importorskip("torch")
    lin = Linear(6, 4)
    model = Sequential().add(lin).add(LogSoftMax())
    W, b = model.get_weights()
    x = rand32(rng, 5, 6)
    t = np.array([1, 4, 2, 3, 4], dtype=np.float32)
    crit = ClassNLLCriterion()
    model.zero_grad_parameters()
    out = model.forward(x)
    loss = crit.forward(out, t)
    gx = model.backward(x, crit.backward(out, t))
    p = model.parameters()[lin.name()]

    tl = torch.nn.Linear(6, 4).double()
    with torch.no_grad():
        tl.weight.copy_(torch.from_numpy(ref.f64(W)))
        tl.bias.copy_(torch.from_numpy(ref.f64(b)))
    tx = torch.from_numpy(ref.f64(x)).requires_grad_(True)
    tout = torch.log_softmax(tl(tx), dim=1)
    tloss = torch.nn.functional.nll_loss(tout, torch.from_numpy(t.astype(np.int64) - 1))
    tloss.backward()
    assert abs(loss - tloss.item()) <= 1e-5 * abs(tloss.item())
    assert_close(out, tout.detach().numpy())
    assert_close(gx, tx.grad.numpy())
    assert_close(p["gradWeight"], tl.weight.grad.numpy())
    assert_close(p["gradBias"], tl.bias.grad.numpy())
