"""Initialisation methods and BigDL's seeded initial weights.

The expected numbers never come from our generator: numpy's RandomState
implements the same MT19937 with the same init_genrand seeding, and BigDL
turns its 32-bit outputs u into uniforms a + (b - a)·u/2³² and into normals
by Box–Muller on pairs of them (rho = sqrt(-2 ln(1 - u₂)), then
rho·cos(2π u₁) and, for the next draw, rho·sin(2π u₁))."""
import numpy as np
import pytest

from bigdl.nn.initialization_method import (BilinearFiller, ConstInitMethod, HeNormal, HeUniform, LeCunNormal,
                                            LeCunUniform, MsraFiller, Ones, RandomNormal, RandomUniform, Xavier,
                                            XavierNormal, Zeros)
from bigdl.nn.layer import Linear, ReLU, Sequential
from bigdl.util.common import RNG

from _reference import BigDLStream


def test_the_stream_matches_rng_uniform():
    RNG().set_seed(100)
    np.testing.assert_array_equal(RNG().uniform(0.1, 0.2, [7]), BigDLStream(100).uniform(0.1, 0.2, 7))


@pytest.mark.parametrize("seed", [1, 42, 2 ** 31 + 5])
@pytest.mark.parametrize("n_in,n_out", [(5, 2), (784, 10), (3, 1)])
def test_linear_default_weights_are_bigdls(seed, n_in, n_out):
    RNG().set_seed(seed)
    layer = Linear(n_in, n_out)
    s = BigDLStream(seed)
    stdv = 1 / np.sqrt(n_in)
    w = s.uniform(-stdv, stdv, n_in * n_out).reshape(n_out, n_in)
    b = s.uniform(-stdv, stdv, n_out)
    got = layer.get_weights()
    np.testing.assert_array_equal(got[0], w)
    np.testing.assert_array_equal(got[1], b)


def test_layer_set_seed_seeds_the_same_generator():
    a = Linear(4, 3).set_seed(9)
    b = Linear(4, 3)
    RNG().set_seed(9)
    c = Linear(4, 3)
    del a
    np.testing.assert_array_equal(b.get_weights()[0], c.get_weights()[0])


def test_layers_built_in_order_continue_the_stream():
    RNG().set_seed(5)
    model = Sequential().add(Linear(6, 4)).add(ReLU()).add(Linear(4, 3))
    s = BigDLStream(5)
    want = []
    for n_in, n_out in [(6, 4), (4, 3)]:
        stdv = 1 / np.sqrt(n_in)
        want += [s.uniform(-stdv, stdv, n_in * n_out).reshape(n_out, n_in), s.uniform(-stdv, stdv, n_out)]
    for got, w in zip(model.get_weights(), want):
        np.testing.assert_array_equal(got, w)


# Each init method on Linear(n_in, n_out): BigDL's fans are (n_in, n_out) for
# the weight and (n_out, 1) for the bias.
def _uniform(bound):
    return lambda s, n, fi, fo: s.uniform(-bound(fi, fo), bound(fi, fo), n)


def _normal(stdv):
    return lambda s, n, fi, fo: s.normal(0.0, stdv(fi, fo), n)


METHODS = [
    (Zeros, lambda s, n, fi, fo: np.zeros(n, np.float32)),
    (Ones, lambda s, n, fi, fo: np.ones(n, np.float32)),
    (lambda: ConstInitMethod(0.25), lambda s, n, fi, fo: np.full(n, 0.25, np.float32)),
    (lambda: RandomUniform(0.5, -0.25), lambda s, n, fi, fo: s.uniform(-0.25, 0.5, n)),
    (RandomUniform, _uniform(lambda fi, fo: 1 / np.sqrt(fi))),
    (lambda: RandomNormal(1.0, 0.5), lambda s, n, fi, fo: s.normal(1.0, 0.5, n)),
    (Xavier, _uniform(lambda fi, fo: np.sqrt(6.0 / (fi + fo)))),
    (XavierNormal, _normal(lambda fi, fo: np.sqrt(2.0 / (fi + fo)))),
    (HeNormal, _normal(lambda fi, fo: np.sqrt(2.0 / fi))),
    (HeUniform, _uniform(lambda fi, fo: np.sqrt(6.0 / fi))),
    (LeCunNormal, _normal(lambda fi, fo: np.sqrt(1.0 / fi))),
    (LeCunUniform, _uniform(lambda fi, fo: np.sqrt(3.0 / fi))),
    (MsraFiller, _normal(lambda fi, fo: np.sqrt(2.0 / ((fi + fo) // 2)))),
    (lambda: MsraFiller(False), _normal(lambda fi, fo: np.sqrt(2.0 / fo))),
]


@pytest.mark.parametrize("make,reference", METHODS)
def test_seeded_init_method_gives_bigdls_numbers(make, reference):
    n_in, n_out = 7, 3  # odd counts: a normal pair straddles weight and bias
    layer = Linear(n_in, n_out)
    RNG().set_seed(77)
    assert layer.set_init_method(make(), make()) is layer
    s = BigDLStream(77)
    w = reference(s, n_in * n_out, n_in, n_out).reshape(n_out, n_in)
    b = reference(s, n_out, n_out, 1)
    got = layer.get_weights()
    np.testing.assert_allclose(got[0], w, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got[1], b, rtol=1e-6, atol=1e-7)


def test_a_none_method_keeps_the_current_one_and_reset_redraws():
    layer = Linear(10, 4).set_init_method(Ones(), Zeros())
    layer.set_init_method(bias_init_method=ConstInitMethod(2.0))
    w, b = layer.get_weights()
    assert (w == 1).all() and (b == 2).all()
    layer.set_weights([np.zeros((4, 10), np.float32), np.zeros(4, np.float32)])
    w, b = layer.reset().get_weights()
    assert (w == 1).all() and (b == 2).all()


@pytest.mark.parametrize("make,mean,var,bound", [
    (RandomUniform, 0.0, 1 / 1000 / 3, 1 / np.sqrt(1000)),
    (lambda: RandomUniform(3.0, 1.0), 2.0, 4 / 12, None),
    (lambda: RandomNormal(-1.0, 2.0), -1.0, 4.0, None),
    (Xavier, 0.0, 6 / 1500 / 3, np.sqrt(6 / 1500)),
    (XavierNormal, 0.0, 2 / 1500, None),
    (HeNormal, 0.0, 2 / 1000, None),
    (HeUniform, 0.0, 6 / 1000 / 3, np.sqrt(6 / 1000)),
    (LeCunNormal, 0.0, 1 / 1000, None),
    (LeCunUniform, 0.0, 3 / 1000 / 3, np.sqrt(3 / 1000)),
    (MsraFiller, 0.0, 2 / 750, None),
])
def test_init_method_statistics_on_a_large_layer(make, mean, var, bound):
    w = Linear(1000, 500).set_init_method(make()).get_weights()[0].astype(np.float64)
    sd = np.sqrt(var)
    assert abs(w.mean() - mean) < 5 * sd / np.sqrt(w.size)
    assert w.var() == pytest.approx(var, rel=0.01)
    if bound is not None:
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound


def test_bilinear_filler_needs_a_deconvolution_kernel():
    with pytest.raises(ValueError, match="BilinearFiller"):
        Linear(4, 4).set_init_method(BilinearFiller())


@pytest.mark.parametrize("call,arg", [
    (lambda: ReLU().set_init_method(Xavier()), "no parameters"),
    (lambda: Sequential().add(Linear(2, 2)).set_init_method(Xavier()), "no parameters"),
    (lambda: Linear(2, 2).set_init_method("xavier"), "weight_init_method"),
    (lambda: Linear(2, 2).set_init_method(None, Xavier), "bias_init_method"),
    (lambda: RandomUniform(1.0), "RandomUniform"),
    (lambda: RandomUniform(-1.0, 1.0), "lower"),
    (lambda: RandomNormal(0.0, 0.0), "stdv"),
    (lambda: ConstInitMethod("one"), "value"),
])
def test_bad_init_methods_raise_at_once(call, arg):
    with pytest.raises(ValueError, match=arg):
        call()
