"""SpatialConvolution and pooling beyond the harness rows: BigDL's constructor
checks, weight layout, description and mode switches."""
import numpy as np
import pytest

import inspect

from bigdl.nn.layer import (Cropping3D, Layer, LocallyConnected1D, LocallyConnected2D, ResizeBilinear, Sequential,
                            SpatialAveragePooling, SpatialConvolution, SpatialCrossMapLRN, SpatialDilatedConvolution,
                            SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, SpatialFullConvolution,
                            SpatialMaxPooling, UpSampling3D, VolumetricAveragePooling, VolumetricConvolution,
                            VolumetricMaxPooling)


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
    (lambda: VolumetricConvolution(2, 3, 2, 2, 2, d_t=0), ["VolumetricConvolution", "d_t", "0"]),
    (lambda: VolumetricConvolution(2, 3, 2, 2, 2, 1, 1, 1, -1, 0, 0), ["VolumetricConvolution", "SAME"]),
    (lambda: VolumetricConvolution(2, 0, 2, 2, 2), ["VolumetricConvolution", "n_output_plane"]),
    (lambda: VolumetricMaxPooling(2, 2, 2, 1, 0, 1), ["VolumetricMaxPooling", "d_w", "0"]),
    (lambda: VolumetricMaxPooling(2, 2, 2, 1, 1, 1, 0, 0, 2), ["VolumetricMaxPooling", "pad_h", "half"]),
    (lambda: VolumetricAveragePooling(2, 2, 2, 1, 1, 0), ["VolumetricAveragePooling", "d_h", "0"]),
    (lambda: VolumetricAveragePooling(2, 2, 2, 1, 1, 1, -1), ["VolumetricAveragePooling", "pad_t"]),
    (lambda: LocallyConnected1D(6, 3, 2, 2, 0), ["LocallyConnected1D", "stride_w", "0"]),
    (lambda: LocallyConnected1D(3, 3, 2, 4), ["LocallyConnected1D", "kernel_w 4", "n_input_frame 3"]),
    (lambda: LocallyConnected2D(2, 5, 5, 3, 3, 3, stride_h=0), ["LocallyConnected2D", "stride_h 0"]),
    (lambda: LocallyConnected2D(2, 5, 3, 3, 3, 4, pad_h=0), ["LocallyConnected2D", "larger than the padded input"]),
    (lambda: LocallyConnected2D(2, 5, 5, 3, 3, 3, data_format="CHWN"), ["LocallyConnected2D", "CHWN"]),
    (lambda: SpatialFullConvolution(4, 6, 3, 3, 0, 1), ["SpatialFullConvolution", "dw 0"]),
    (lambda: SpatialFullConvolution(4, 6, 3, 3, 2, 2, n_group=4), ["SpatialFullConvolution", "n_group 4", "4", "6"]),
    (lambda: SpatialFullConvolution(4, 6, 3, 3, 2, 1, adj_w=2), ["SpatialFullConvolution", "adj_w 2", "dw − 1 = 1"]),
    (lambda: SpatialFullConvolution(4, 6, 3, 3, adj_h=1), ["SpatialFullConvolution", "adj_h 1", "dh − 1 = 0"]),
    (lambda: SpatialFullConvolution(4, 6, 3, 3, pad_w=-1), ["SpatialFullConvolution", "pad_w"]),
    (lambda: SpatialFullConvolution(4, 6, 0, 3), ["SpatialFullConvolution", "kw"]),
    (lambda: SpatialCrossMapLRN(4), ["SpatialCrossMapLRN", "odd", "4"]),
    (lambda: SpatialCrossMapLRN(data_format="CHWN"), ["SpatialCrossMapLRN", "CHWN"]),
    (lambda: ResizeBilinear(0, 3), ["ResizeBilinear", "output_height"]),
    (lambda: ResizeBilinear(3, 3, data_format="HWC"), ["ResizeBilinear", "HWC"]),
    (lambda: UpSampling3D([2, 2]), ["UpSampling3D", "three positive integers"]),
    (lambda: UpSampling3D([2, 0, 1]), ["UpSampling3D", "[2 0 1]"]),
    (lambda: Cropping3D([1, 1], [1], [0, 0]), ["Cropping3D", "dim2Crop"]),
    (lambda: Cropping3D([1, 1], [1, 1], [0, -1]), ["Cropping3D", "≥ 0"]),
    (lambda: Cropping3D([1, 1], [1, 1], [0, 0], "NCHW"), ["Cropping3D", "channel_first", "NCHW"]),
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


def test_volumetric_and_locally_connected_signatures_are_bigdls():
    def params(cls):
        return [(p.name, p.default) for p in inspect.signature(cls.__init__).parameters.values()][1:]
    empty = inspect.Parameter.empty
    assert params(VolumetricConvolution)[:12] == [
        ("n_input_plane", empty), ("n_output_plane", empty), ("k_t", empty), ("k_w", empty), ("k_h", empty),
        ("d_t", 1), ("d_w", 1), ("d_h", 1), ("pad_t", 0), ("pad_w", 0), ("pad_h", 0), ("with_bias", True)]
    # BigDL's pooling strides have no default.
    assert params(VolumetricMaxPooling)[:9] == [("k_t", empty), ("k_w", empty), ("k_h", empty), ("d_t", empty),
                                                ("d_w", empty), ("d_h", empty), ("pad_t", 0), ("pad_w", 0), ("pad_h", 0)]
    assert params(VolumetricAveragePooling)[3:11] == [("d_t", empty), ("d_w", empty), ("d_h", empty), ("pad_t", 0),
                                                      ("pad_w", 0), ("pad_h", 0), ("count_include_pad", True),
                                                      ("ceil_mode", False)]
    assert [n for n, _ in params(LocallyConnected1D)][:6] == [
        "n_input_frame", "input_frame_size", "output_frame_size", "kernel_w", "stride_w", "propagate_back"]
    assert [n for n, _ in params(LocallyConnected2D)][:11] == [
        "n_input_plane", "input_width", "input_height", "n_output_plane", "kernel_w", "kernel_h", "stride_w",
        "stride_h", "pad_w", "pad_h", "propagate_back"]


def test_volumetric_descriptions_follow_bigdls_argument_order():
    assert (str(VolumetricConvolution(2, 3, 4, 5, 6, 1, 2, 3, 0, 1, 2).set_name("v"))
            == "VolumetricConvolution[v](2 -> 3, 4 x 5 x 6, 1, 2, 3, 0, 1, 2)")
    assert str(VolumetricMaxPooling(3, 2, 4, 1, 2, 3, 1).set_name("m")) == "VolumetricMaxPooling[m](3, 2, 4, 1, 2, 3, 1, 0, 0)"
    assert (str(VolumetricAveragePooling(2, 2, 2, 1, 1, 1, ceil_mode=True).set_name("a"))
            == "VolumetricAveragePooling[a](2, 2, 2, 1, 1, 1, 0, 0, 0, true, true)")
    assert str(LocallyConnected2D(6, 2, 4, 12, 1, 3).set_name("l")) == "LocallyConnected2D[l](6 -> 12, 1 x 3, 1, 1, 0, 0)"
    assert str(LocallyConnected1D(10, 6, 12, 5, 5).set_name("l")) == "LocallyConnected1D[l](6 -> 12, 5 x 5)"


def test_volumetric_width_and_height_are_not_swapped():
    # A 1 x 3 x 1 kernel (time x width x height) reduces the width only.
    x = np.zeros((1, 2, 5, 7), np.float32)
    assert VolumetricConvolution(1, 1, 1, 3, 1).forward(x).shape == (1, 2, 5, 5)
    assert VolumetricMaxPooling(1, 3, 1, 1, 3, 1).forward(x).shape == (1, 2, 5, 2)
    assert LocallyConnected2D(1, 7, 5, 1, 3, 1).forward(x[:, 0]).shape == (1, 5, 5)


def test_locally_connected_2d_adds_its_bias_in_storage_order_as_bigdl():
    # BigDL adds the (positions, out) bias to the (out, positions) NCHW output by flat index.
    b = np.arange(2 * 6, dtype=np.float32).reshape(6, 2)
    layer = LocallyConnected2D(3, 3, 2, 2, 1, 1, init_weight=np.zeros((6, 2, 3), np.float32), init_bias=b)
    y = layer.forward(np.random.RandomState(0).rand(4, 3, 2, 3).astype(np.float32))
    np.testing.assert_array_equal(y, np.broadcast_to(b.reshape(2, 2, 3), (4, 2, 2, 3)))
    nhwc = LocallyConnected2D(3, 3, 2, 2, 1, 1, init_weight=np.zeros((6, 2, 3), np.float32), init_bias=b,
                              data_format="NHWC")
    np.testing.assert_array_equal(nhwc.forward(np.ones((2, 3, 3), np.float32)), b.reshape(2, 3, 2))


@pytest.mark.parametrize("make, x", [
    (lambda: LocallyConnected1D(6, 3, 4, 2, propagate_back=False), np.ones((2, 6, 3), np.float32)),
    (lambda: LocallyConnected2D(2, 4, 4, 3, 2, 2, propagate_back=False), np.ones((2, 2, 4, 4), np.float32)),
])
def test_locally_connected_without_propagate_back_trains_but_returns_zero(make, x):
    layer = make()
    y = layer.forward(x)
    layer.zero_grad_parameters()
    gx = layer.backward(x, np.ones_like(y))
    assert gx.shape == x.shape and not gx.any()
    assert np.abs(layer.parameters()[layer.name()]["gradWeight"]).sum() > 0


def test_volumetric_and_locally_connected_layers_survive_save_and_load(tmp_path):
    x = np.random.RandomState(3).rand(2, 1, 4, 6, 6).astype(np.float32)
    model = (Sequential().add(VolumetricConvolution(1, 2, 2, 3, 3, pad_w=1, pad_h=1))
             .add(VolumetricAveragePooling(1, 2, 2, 1, 2, 2, ceil_mode=True)).add(VolumetricMaxPooling(3, 1, 1, 1, 1, 1)))
    path = str(tmp_path / "vol.bigdl")
    model.save(path)
    np.testing.assert_array_equal(Layer.load(path).forward(x), model.forward(x))
def test_full_convolution_weight_layout_description_and_bigdl_examples():
    deconv = SpatialFullConvolution(6, 4, 5, 3, 2, 1, 1, 0, 1, 0, n_group=2).set_name("up")
    w, b = deconv.get_weights()
    assert w.shape == (2, 3, 2, 3, 5) and b.shape == (4,)
    assert str(deconv) == "SpatialFullConvolution[up](6 -> 4, 5 x 3, 2, 1, 1, 0, 1, 0)"
    assert len(SpatialFullConvolution(1, 1, 1, 1, no_bias=True).get_weights()) == 1
    # Output size (in − 1)·d − 2·pad + k + adj, width before height in the arguments.
    assert deconv.forward(np.ones((2, 6, 4, 7), np.float32)).shape == (2, 4, 6, 16)
    assert str(SpatialCrossMapLRN(5, 1.0, 0.75, 1.0, "NHWC").set_name("n")) == "SpatialCrossMapLRN[n](5, 1.0, 0.75, 1.0)"
    assert str(UpSampling3D([1, 2, 3]).set_name("u")) == "UpSampling3D[u](1, 2, 3)"
    assert (str(Cropping3D([1, 1], [2, 2], [1, 1]).set_name("c"))
            == "Cropping3D[c](dim1: 1, 1; dim2Crop: 2, 2; dim3Crop: 1, 1)")
    assert ResizeBilinear(10, 20, False).forward(np.ones((1, 2, 5, 4), np.float32)).shape == (1, 2, 10, 20)


def test_full_convolution_refuses_a_misshapen_gradient():
    deconv = SpatialFullConvolution(2, 3, 3, 3, 2, 2)
    x = np.ones((2, 2, 4, 4), np.float32)
    y = deconv.forward(x)
    with pytest.raises(ValueError) as e:
        deconv.backward(x, np.ones((2, 3, 9, 8), np.float32))
    assert "SpatialFullConvolution" in str(e.value) and "(2, 3, 9, 9)" in str(e.value)
    assert deconv.backward(x, np.ones_like(y)).shape == x.shape


def test_resize_bilinear_is_tensorflows_not_pytorchs_half_pixel():
    """BigDL (TensorFlow's resize_bilinear) samples output pixel i at i·in/out: doubling
    [0, 1, 2, 3] gives 0, .5, 1, …, 3, 3 (the last pixel repeats), where PyTorch's
    half-pixel interpolate gives 0, .25, .75, …"""
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 1, 4)
    y = ResizeBilinear(1, 8).forward(x)
    np.testing.assert_allclose(y.ravel(), [0, .5, 1, 1.5, 2, 2.5, 3, 3])
    y = ResizeBilinear(1, 7, align_corner=True).forward(x)
    np.testing.assert_allclose(y.ravel(), [0, .5, 1, 1.5, 2, 2.5, 3], rtol=1e-6)


def test_a_decoder_of_full_convolutions_trains_through_the_optimizer():
    """Learns to double an image's size (nearest neighbour) with two transposed convolutions
    and LRN between them, through the training loop in Go (core/optim's
    TestDeconvLayersWorkersMatchOneWorker checks the batch split for these layers)."""
    from bigdl.nn.criterion import MSECriterion
    from bigdl.nn.layer import Tanh
    from bigdl.optim.optimizer import SGD, MaxEpoch, Optimizer
    from bigdl.util.common import RNG
    RNG().set_seed(3)
    rng = np.random.RandomState(4)
    X = rng.uniform(-1, 1, (128, 4, 4, 4)).astype(np.float32)
    Y = X.repeat(2, axis=2).repeat(2, axis=3)
    model = (Sequential().add(SpatialFullConvolution(4, 16, 4, 4, 2, 2, 1, 1)).add(Tanh())
             .add(SpatialCrossMapLRN(3, 0.1)).add(SpatialFullConvolution(16, 4, 3, 3, 1, 1, 1, 1)))
    crit = MSECriterion()
    before = crit.forward(model.forward(X), Y)
    Optimizer(model, (X, Y), crit, MaxEpoch(30), 32, SGD(0.5, momentum=0.9)).optimize()
    after = crit.forward(model.forward(X), Y)
    assert after < 0.2 * before, (before, after)
