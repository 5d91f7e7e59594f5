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
