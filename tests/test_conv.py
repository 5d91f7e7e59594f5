"""SpatialConvolution and pooling beyond the harness rows: BigDL's constructor
checks, weight layout, description and mode switches."""
import numpy as np
import pytest

from bigdl.nn.layer import (Layer, Sequential, SpatialAveragePooling, SpatialConvolution, SpatialDilatedConvolution,
                            SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, SpatialMaxPooling)


@pytest.mark.parametrize("make, words", [
    (lambda: SpatialConvolution(6, 12, 5, 5, stride_w=0), ["SpatialConvolution", "stride_w 0"]),
    (lambda: SpatialConvolution(6, 12, 5, 5, 1, 1, 0, 0, n_group=4), ["SpatialConvolution", "n_group 4", "6", "12"]),
    (lambda: SpatialConvolution(6, 12, 5, 5, pad_w=-1), ["SpatialConvolution", "SAME"]),
    (lambda: SpatialConvolution(4, 4, 3, 3, n_group=2, data_format="NHWC"), ["SpatialConvolution", "NCHW"]),
    (lambda: SpatialConvolution(4, 4, 3, 3, data_format="CHWN"), ["SpatialConvolution", "CHWN"]),
    (lambda: SpatialMaxPooling(2, 2, 0, 2), ["SpatialMaxPooling", "dw 0"]),
    (lambda: SpatialMaxPooling(2, 2, 2, 2, 2, 2), ["SpatialMaxPooling", "half the kernel"]),
    (lambda: SpatialAveragePooling(2, 2, 1, 0), ["SpatialAveragePooling", "dh 0"]),
    (lambda: SpatialDilatedConvolution(2, 3, 3, 3, dilation_w=0), ["SpatialDilatedConvolution", "dilation_w 0"]),
    (lambda: SpatialDilatedConvolution(2, 3, 3, 3, pad_w=-1, pad_h=-1), ["SpatialDilatedConvolution", "pad_w"]),
    (lambda: SpatialDilatedConvolution(2, 3, 3, 3, 0, 1), ["SpatialDilatedConvolution", "dw 0"]),
])
def test_bad_arguments_are_value_errors_naming_the_layer(make, words):
    with pytest.raises(ValueError) as e:
        make()
    for w in words:
        assert w in str(e.value), "%r lacks %r" % (str(e.value), w)


def test_weight_is_bigdls_5d_layout_and_init_weight_is_used_verbatim():
    w = np.random.RandomState(0).randn(1, 12, 6, 5, 5).astype(np.float32)
    b = np.arange(12, dtype=np.float32)
    conv = SpatialConvolution(6, 12, 5, 5, init_weight=w, init_bias=b)
    got = conv.get_weights()
    np.testing.assert_array_equal(got[0], w)
    np.testing.assert_array_equal(got[1], b)
    assert SpatialConvolution(6, 12, 5, 5, n_group=3).get_weights()[0].shape == (3, 4, 2, 5, 5)
    assert SpatialConvolution(6, 12, 5, 3, data_format="NHWC").get_weights()[0].shape == (1, 3, 5, 6, 12)


def test_description_names_width_before_height():
    conv = SpatialConvolution(6, 12, 5, 3, 2, 1, 1, 0).set_name("conv2")
    assert str(conv) == "SpatialConvolution[conv2](6 -> 12, 5 x 3, 2, 1, 1, 0)"
    assert str(SpatialMaxPooling(2, 3, 2, 1).set_name("p")) == "SpatialMaxPooling[p](2, 3, 2, 1, 0, 0)"
    assert (str(SpatialDilatedConvolution(2, 3, 5, 3, 1, 2, 0, 1, 2, 4).set_name("d"))
            == "SpatialDilatedConvolution[d](2 -> 3, 5 x 3, 1, 2, 0, 1, 4, 2)")


def test_propagate_back_false_gives_a_zero_input_gradient_but_trains():
    x = np.random.RandomState(1).rand(2, 3, 6, 6).astype(np.float32)
    conv = SpatialConvolution(3, 4, 3, 3, propagate_back=False)
    y = conv.forward(x)
    conv.zero_grad_parameters()
    gx = conv.backward(x, np.ones_like(y))
    assert gx.shape == x.shape and not gx.any()
    assert np.abs(conv.parameters()[conv.name()]["gradWeight"]).sum() > 0


def test_ceil_switch_survives_save_and_load(tmp_path):
    x = np.random.RandomState(2).rand(1, 2, 8, 8).astype(np.float32)
    pool = SpatialMaxPooling(3, 3, 2, 2)
    assert pool.forward(x).shape == (1, 2, 3, 3)
    assert pool.ceil() is pool
    assert pool.forward(x).shape == (1, 2, 4, 4)
    path = str(tmp_path / "pool.bigdl")
    Sequential().add(pool).save(path)
    assert Layer.load(path).forward(x).shape == (1, 2, 4, 4)
    assert pool.floor().forward(x).shape == (1, 2, 3, 3)


@pytest.mark.parametrize("make, shape, channel_axis", [
    (lambda: SpatialDropout1D(0.4), (6, 9, 5), 2),
    (lambda: SpatialDropout2D(0.4), (6, 5, 4, 3), 1),
    (lambda: SpatialDropout2D(0.4, "NHWC"), (6, 4, 3, 5), 3),
    (lambda: SpatialDropout3D(0.4), (6, 5, 2, 3, 3), 1),
])
def test_spatial_dropout_drops_whole_channels_in_training(make, shape, channel_axis):
    x = np.random.RandomState(3).uniform(0.5, 1.5, shape).astype(np.float32)
    layer = make()
    y = layer.forward(x)
    kept = np.moveaxis(y != 0, channel_axis, -1).reshape(shape[0], -1, shape[channel_axis])
    # Each (sample, channel) map is either all kept, unscaled, or all zero.
    assert np.all(kept.all(axis=1) | ~kept.any(axis=1))
    np.testing.assert_array_equal(y[y != 0], x[y != 0])
    assert 0 < (y == 0).mean() < 1
    gy = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(x, gy) != 0, y != 0)
