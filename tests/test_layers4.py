"""What the harness rows cannot say about "Layers, part 4": the random layers in training
mode (by their statistics), and constructor arguments BigDL refuses."""
import numpy as np
import pytest

from bigdl.nn.layer import (Clamp, GaussianDropout, GaussianNoise, Normalize, Power, PReLU, RReLU)
from bigdl.util.common import RNG


def test_rrelu_training_slopes_are_uniform_in_range_and_gradient_matches():
    RNG().set_seed(5)
    layer = RReLU(0.1, 0.3)
    x = -np.ones((200, 100), np.float32)
    x[:, :10] = 2.0  # positive elements pass unchanged
    y = layer.forward(x)
    np.testing.assert_array_equal(y[:, :10], 2.0)
    slopes = -y[:, 10:]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.005
    assert abs(slopes.var() - 0.2 ** 2 / 12) < 0.0005  # U(0.1, 0.3) has variance (b-a)²/12
    g = layer.backward(x, np.ones_like(x))
    np.testing.assert_allclose(g[:, 10:], slopes, rtol=1e-6)
    np.testing.assert_array_equal(g[:, :10], 1.0)


def test_gaussian_dropout_training_noise_is_n_1_rate_over_1_minus_rate():
    RNG().set_seed(6)
    rate = 0.36
    layer = GaussianDropout(rate)
    x = np.full((300, 200), 2.0, np.float32)
    eps = layer.forward(x) / 2.0
    assert abs(eps.mean() - 1.0) < 0.01
    assert abs(eps.std() - np.sqrt(rate / (1 - rate))) < 0.01
    # The gradient uses the forward pass's noise (BigDL redraws it, which is not the gradient).
    np.testing.assert_allclose(layer.backward(x, np.ones_like(x)), eps, rtol=1e-6)


def test_gaussian_noise_training_adds_n_0_stddev():
    RNG().set_seed(7)
    layer = GaussianNoise(0.5)
    x = np.full((300, 200), 3.0, np.float32)
    noise = layer.forward(x) - 3.0
    assert abs(noise.mean()) < 0.01
    assert abs(noise.std() - 0.5) < 0.01
    np.testing.assert_array_equal(layer.backward(x, np.full_like(x, 0.25)), 0.25)


def test_random_layers_repeat_with_a_seed():
    outs = []
    for _ in range(2):
        RNG().set_seed(11)
        outs.append(GaussianNoise(1.0).forward(np.zeros((3, 4), np.float32)))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_prelu_starts_at_a_quarter_and_learns_per_channel():
    layer = PReLU(2)
    np.testing.assert_array_equal(layer.get_weights()[0], [0.25, 0.25])
    x = np.array([[-1.0, -2.0], [3.0, -4.0]], np.float32)
    layer.zero_grad_parameters()
    layer.forward(x)
    layer.backward(x, np.ones_like(x))
    # d/dw_c Σ y = Σ of the non-positive inputs of channel c.
    np.testing.assert_allclose(layer.parameters()[layer.name()]["gradWeight"], [-1.0, -6.0])


@pytest.mark.parametrize("make, words", [
    (lambda: Clamp(1.0, -1.0), ["Clamp", "min", "max"]),
    (lambda: RReLU(0.5, 0.2), ["RReLU", "lower", "upper"]),
    (lambda: GaussianDropout(1.5), ["GaussianDropout", "rate"]),
    (lambda: GaussianNoise(-1.0), ["GaussianNoise", "stddev"]),
    (lambda: Normalize(0.0), ["Normalize", "p"]),
    (lambda: PReLU(-2), ["PReLU", "n_output_plane"]),
    (lambda: Power("two"), ["Power", "power"]),
])
def test_bad_constructor_arguments_raise_value_errors(make, words):
    with pytest.raises(ValueError) as e:
        make()
    for w in words:
        assert w in str(e.value), "%r lacks %r" % (str(e.value), w)


def test_class_simplex_reference_is_a_regular_simplex():
    # The harness's ClassSimplexCriterion reference: unit vertices with equal pairwise angles
    # (dot products -1/(n-1)), centred at the origin.
    import _layer_rows  # noqa: F401  (it imports _layer_rows4, whose rows need its helpers)
    from _layer_rows4 import regular_simplex
    for n in (2, 3, 4, 7):
        s = regular_simplex(n)
        g = s @ s.T
        np.testing.assert_allclose(np.diag(g), 1, atol=1e-12)
        off = g[~np.eye(n, dtype=bool)]
        np.testing.assert_allclose(off, -1.0 / (n - 1), atol=1e-12)
        np.testing.assert_allclose(s.sum(0), 0, atol=1e-12)


@pytest.mark.parametrize("label", [0, 6, 2.5, -1])
def test_class_criteria_refuse_labels_outside_1_to_classes(label):
    from bigdl.nn.criterion import ClassSimplexCriterion, MultiMarginCriterion
    x = np.zeros((4, 5), np.float32)
    t = np.array([1, 2, label, 3], np.float32)
    for crit in (MultiMarginCriterion(), ClassSimplexCriterion(5)):
        for call in (crit.forward, crit.backward):
            with pytest.raises(ValueError) as e:
                call(x, t)
            assert "1-based" in str(e.value) and "record 3" in str(e.value), str(e.value)
        assert crit.forward(x, np.ones(4, np.float32)) >= 0  # still usable


def test_regularizers_of_the_parameterised_layers_join_their_gradients():
    from bigdl.nn.layer import Bilinear, CAdd, CMul
    from bigdl.optim.optimizer import L2Regularizer
    rs = np.random.RandomState(1)
    x = rs.randn(3, 4).astype(np.float32)
    gy = rs.randn(3, 4).astype(np.float32)
    cmul = CMul([4], wRegularizer=L2Regularizer(0.5))
    cadd = CAdd([4], bRegularizer=L2Regularizer(0.25))
    for layer in (cmul, cadd):
        layer.zero_grad_parameters()
        layer.forward(x)
        layer.backward(x, gy)
    w = cmul.get_weights()[0]
    np.testing.assert_allclose(cmul.parameters()[cmul.name()]["gradWeight"], (gy * x).sum(0) + 0.5 * w, rtol=1e-5)
    b = cadd.get_weights()[0]
    np.testing.assert_allclose(cadd.parameters()[cadd.name()]["gradBias"], gy.sum(0) + 0.25 * b, rtol=1e-5)
    bil = Bilinear(4, 2, 3, wRegularizer=L2Regularizer(0.1), bRegularizer=L2Regularizer(0.2))
    x2 = rs.randn(3, 2).astype(np.float32)
    g3 = rs.randn(3, 3).astype(np.float32)
    bil.zero_grad_parameters()
    bil.forward([x, x2])
    bil.backward([x, x2], g3)
    W, bb = bil.get_weights()
    p = bil.parameters()[bil.name()]
    np.testing.assert_allclose(p["gradWeight"], np.einsum("nk,ni,nj->kij", g3, x, x2) + 0.1 * W, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(p["gradBias"], g3.sum(0) + 0.2 * bb, rtol=1e-5)


def test_set_init_method_on_the_parameterised_layers():
    from bigdl.nn.initialization_method import ConstInitMethod, Ones, Zeros
    from bigdl.nn.layer import Bilinear, CAdd, CMul, Cosine, Euclidean, Mul, Scale
    for layer in (CMul([2, 3]), Cosine(3, 2), Euclidean(3, 2), Mul(), PReLU(3)):
        layer.set_init_method(ConstInitMethod(0.5))
        np.testing.assert_array_equal(layer.get_weights()[0], 0.5)
    w, b = Scale([3]).set_init_method(Ones(), Zeros()).get_weights()
    np.testing.assert_array_equal(w, 1)
    np.testing.assert_array_equal(b, 0)
    np.testing.assert_array_equal(CAdd([3]).set_init_method(None, Ones()).get_weights()[0], 1)
    w, b = Bilinear(2, 3, 4).set_init_method(Zeros(), Ones()).get_weights()
    assert w.shape == (4, 2, 3) and not w.any() and (b == 1).all()


def test_highway_regularizer_reaches_both_linears_and_it_trains():
    from bigdl.nn.criterion import MSECriterion
    from bigdl.nn.layer import Highway, Maxout, Sequential
    from bigdl.optim.optimizer import L2Regularizer, MaxEpoch, Optimizer, SGD
    rs = np.random.RandomState(2)
    h = Highway(3, wRegularizer=L2Regularizer(0.5))
    x, gy = rs.randn(4, 3).astype(np.float32), np.zeros((4, 3), np.float32)
    h.zero_grad_parameters()
    h.forward(x)
    h.backward(x, gy)
    W1, _, W2, _ = h.get_weights()
    grads = h._call("get_grads")[1]
    np.testing.assert_allclose(grads[0], 0.5 * W1, rtol=1e-5)
    np.testing.assert_allclose(grads[2], 0.5 * W2, rtol=1e-5)
    # Both owned-Linear layers train inside an Optimizer, whose steps overwrite gradients.
    X = rs.randn(64, 3).astype(np.float32)
    Y = np.tanh(X[:, :2]).astype(np.float32)
    model = Sequential().add(Highway(3, activation="tanh")).add(Maxout(3, 2, 3))
    before = [w.copy() for w in model.get_weights()]
    loss0 = MSECriterion().forward(model.forward(X), Y)
    Optimizer(model=model, training_rdd=(X, Y), criterion=MSECriterion(), end_trigger=MaxEpoch(30),
              optim_method=SGD(learningrate=0.1), batch_size=16).optimize()
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert MSECriterion().forward(model.forward(X), Y) < 0.5 * loss0


def test_srelu_starts_as_bigdl_does():
    from bigdl.nn.layer import SReLU
    tl, al, tr, ar = SReLU([3, 4]).get_weights()
    np.testing.assert_array_equal(tl, 0)
    np.testing.assert_array_equal(ar, 1)
    assert (tr >= 0).all() and np.abs(al).max() > 0  # tr = |Xavier| + tl; al Xavier
    with pytest.raises(ValueError) as e:
        SReLU([3, 4]).forward(np.zeros((2, 4, 3), np.float32))
    assert "(batch, 3, 4)" in str(e.value) and "(2, 4, 3)" in str(e.value)


def test_transformer_criterion_keeps_its_transformers_weights_and_trains():
    from bigdl.nn.criterion import MSECriterion, TransformerCriterion
    from bigdl.nn.layer import Linear, Tanh
    from bigdl.optim.optimizer import Loss, MaxEpoch, Optimizer, SGD
    # A transformer with weights (a feature network, as in style transfer): its own weights are used.
    feat = Linear(3, 2)
    W, b = feat.get_weights()
    rs = np.random.RandomState(5)
    x, t = rs.randn(6, 3).astype(np.float32), rs.randn(6, 3).astype(np.float32)
    crit = TransformerCriterion(MSECriterion(), feat, feat)
    fx, ft = x @ W.T + b, t @ W.T + b
    np.testing.assert_allclose(crit.forward(x, t), np.mean((fx - ft) ** 2), rtol=1e-5)
    np.testing.assert_allclose(crit.backward(x, t), (2 * (fx - ft) / fx.size) @ W, rtol=1e-4, atol=1e-7)
    rs = np.random.RandomState(4)
    X = rs.randn(64, 3).astype(np.float32)
    Y = np.tanh(X @ np.array([[0.5], [-1.0], [0.3]], np.float32))
    model = Linear(3, 1)
    crit = TransformerCriterion(MSECriterion(), Tanh())
    loss0 = crit.forward(model.forward(X), Y)
    opt = Optimizer(model=model, training_rdd=(X, Y), criterion=crit, end_trigger=MaxEpoch(40),
                    optim_method=SGD(learningrate=0.5), batch_size=16)
    opt.set_validation(batch_size=16, val_rdd=(X, Y), trigger=MaxEpoch(40), val_method=[Loss(crit)])
    opt.optimize()
    assert crit.forward(model.forward(X), Y) < 0.2 * loss0


@pytest.mark.parametrize("make, words", [
    (lambda: __import__("bigdl.nn.criterion").nn.criterion.MultiMarginCriterion(p=3), ["MultiMarginCriterion", "p"]),
    (lambda: __import__("bigdl.nn.criterion").nn.criterion.ClassSimplexCriterion(1), ["ClassSimplexCriterion", "n_classes"]),
    (lambda: __import__("bigdl.nn.criterion").nn.criterion.SoftmaxWithCriterion(normalize_mode="ALL"),
     ["SoftmaxWithCriterion", "normalize_mode"]),
])
def test_bad_criterion_arguments_raise_value_errors(make, words):
    with pytest.raises(ValueError) as e:
        make()
    for w in words:
        assert w in str(e.value), "%r lacks %r" % (str(e.value), w)


def _criteria4():
    import _layer_rows  # noqa: F401  (it imports _layer_rows4)
    from _layer_rows4 import CRITERIA4
    return [r for r in CRITERIA4 if r.name.endswith("-n17-avg") or r.name.endswith("-n17")]


ODD = [np.ones((), np.float32), np.ones(1, np.float32), np.ones((0, 5), np.float32), np.ones((2, 1, 1), np.float32),
       [], [np.ones(2, np.float32), np.ones(2, np.float32)], [[np.ones(2, np.float32)]]]


@pytest.mark.parametrize("row", _criteria4(), ids=repr)
def test_criteria_take_odd_inputs_or_raise_value_errors(row):
    """Scalars, empty batches, tables where tensors belong and the reverse: a loss or a
    ValueError, never an internal error, and the criterion works afterwards."""
    crit = row.make()
    x, t = row.data(np.random.RandomState(13))
    for odd_x in ODD + [x]:
        for odd_t in ODD + [t]:
            if odd_x is x and odd_t is t:
                continue
            for call in (crit.forward, crit.backward):
                try:
                    call(odd_x, odd_t)
                except ValueError:
                    pass
    assert np.isfinite(crit.forward(x, t))
