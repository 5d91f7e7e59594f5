"""Harness rows (see _layer_rows.py) for the convolution, pooling and normalisation
layers. BigDL's layouts are converted to PyTorch's here: the 5-D grouped weight
(groups, out/groups, in/groups, kh, kw) becomes (out, in/groups, kh, kw), the NHWC
weight (1, kh, kw, in, out) becomes (out, in, kh, kw), width-before-height arguments
become PyTorch's (height, width) pairs, and SAME padding is spelt out."""
import math

import numpy as np
import torch
import torch.nn.functional as F

from bigdl.nn.layer import (SpatialAveragePooling, SpatialConvolution, SpatialDilatedConvolution, SpatialMaxPooling,
                            SpatialZeroPadding, TemporalConvolution, TemporalMaxPooling,
                            SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, UpSampling1D, UpSampling2D, Cropping2D,
                            BatchNormalization, SpatialBatchNormalization)

from _layer_rows import LayerRow, u


def same_pad(size, k, stride):
    """TensorFlow's SAME padding, as BigDL computes it: (before, after)."""
    out = math.ceil(size / stride)
    total = max(0, (out - 1) * stride + k - size)
    return total // 2, total - total // 2


def nhwc(f):
    """f on NCHW input, applied to NHWC input (batched or not)."""
    def g(x, *w):
        perm = (0, 3, 1, 2) if x.dim() == 4 else (2, 0, 1)
        back = (0, 2, 3, 1) if x.dim() == 4 else (1, 2, 0)
        return f(x.permute(*perm), *w).permute(*back)
    return g


def conv_ref(kw, kh, dw=1, dh=1, pw=0, ph=0, groups=1, fmt="NCHW", bias=True):
    def f(x, W, b=None):
        if fmt == "NHWC":
            W = W[0].permute(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
        else:
            W = W.reshape(-1, *W.shape[2:])
        if not bias:
            b = None
        if pw == -1:
            (t, bo), (le, r) = same_pad(x.shape[-2], kh, dh), same_pad(x.shape[-1], kw, dw)
            x = F.pad(x, (le, r, t, bo))
            return F.conv2d(x, W, b, stride=(dh, dw), groups=groups)
        return F.conv2d(x, W, b, stride=(dh, dw), padding=(ph, pw), groups=groups)
    return nhwc(f) if fmt == "NHWC" else f


def batched_or_not(f):
    """f for 4-D input, also given 3-D input (one sample)."""
    def g(x, *w):
        if x.dim() == 3:
            return f(x.unsqueeze(0), *w).squeeze(0)
        return f(x, *w)
    return g


def maxpool_ref(kw, kh, dw, dh, pw=0, ph=0, ceil=False, fmt="NCHW"):
    def f(x):
        if pw == -1:
            (t, bo), (le, r) = same_pad(x.shape[-2], kh, dh), same_pad(x.shape[-1], kw, dw)
            x = F.pad(x, (le, r, t, bo), value=-math.inf)
            return F.max_pool2d(x, (kh, kw), (dh, dw))
        return F.max_pool2d(x, (kh, kw), (dh, dw), (ph, pw), ceil_mode=ceil)
    f = batched_or_not(f)
    return nhwc(f) if fmt == "NHWC" else f


def avgpool_ref(kw, kh, dw, dh, pw=0, ph=0, ceil=False, include=True, divide=True, fmt="NCHW", glob=False):
    def f(x):
        k = (x.shape[-2], x.shape[-1]) if glob else (kh, kw)
        y = F.avg_pool2d(x, k, (dh, dw), (ph, pw), ceil_mode=ceil, count_include_pad=include)
        return y if divide else y * (k[0] * k[1])
    f = batched_or_not(f)
    return nhwc(f) if fmt == "NHWC" else f


def bn_ref(training, eps=1e-5, running=None, fmt="NCHW"):
    """F.batch_norm with the batch's statistics (training) or the given running (mean, var);
    an unbatched sample (evaluation) as a batch of one."""
    def f(x, w=None, b=None):
        mean, var = (None, None) if running is None else (torch.tensor(running[0], dtype=torch.float64),
                                                           torch.tensor(running[1], dtype=torch.float64))
        return F.batch_norm(x, mean, var, w, b, training=training, eps=eps)
    def unbatched(x, *w):
        if x.dim() in (1, 3):
            return f(x.unsqueeze(0), *w).squeeze(0)
        return f(x, *w)
    return nhwc(unbatched) if fmt == "NHWC" else unbatched


# Running statistics the evaluation rows set (set_running_std sets the variance, as in BigDL).
BN_MEAN = [0.3, -0.2, 0.1, 0.0, -0.5]
BN_VAR = [0.5, 1.5, 0.8, 2.0, 0.3]
BN_INIT_ARGS = ("init_weight", "init_bias", "init_grad_weight", "init_grad_bias")


def bn_eval(layer, n):
    return layer.set_running_mean(np.array(BN_MEAN[:n])).set_running_std(np.array(BN_VAR[:n])).evaluate()


def temporal_conv_ref(kw, dw, f):
    """BigDL's (out, kw·F) weight as conv1d's (out, F, kw), over (N, T, F) or (T, F) input."""
    def ref(x, W, b):
        w = W.reshape(W.shape[0], kw, f).permute(0, 2, 1)
        return F.conv1d(x.transpose(-1, -2), w, b, stride=dw).transpose(-1, -2)
    return ref


def temporal_max_ref(kw, dw):
    return lambda x: F.max_pool1d(x.transpose(-1, -2), kw, dw).transpose(-1, -2)


def conv_row(name, args, x, kw={}, x1=None, bad=None, **ref):
    n_in, n_out, k_w, k_h = args[:4]
    groups = kw.get("n_group", 1)
    fmt = kw.get("data_format", "NCHW")
    bias = kw.get("with_bias", True)
    if fmt == "NHWC":
        wshape = (1, k_h, k_w, n_in, n_out)
    else:
        wshape = (groups, n_out // groups, n_in // groups, k_h, k_w)
    params = [wshape] + ([(n_out,)] if bias else [])
    return LayerRow(name, lambda: SpatialConvolution(*args, **kw), x,
                    conv_ref(k_w, k_h, *args[4:8], groups=groups, fmt=fmt, bias=bias),
                    x1=x1, params=params, fan=(n_in * k_w * k_h, n_out * k_w * k_h),
                    init_args=("wRegularizer", "bRegularizer", "init_weight", "init_bias"), bad=bad)


CONV_LAYERS = [
    conv_row("SpatialConvolution", (3, 4, 3, 3), u(2, 3, 7, 6), x1=u(3, 7, 6),
             bad=(u(2, 5, 7, 6), ["SpatialConvolution", "(2, 5, 7, 6)"])),
    conv_row("SpatialConvolution-rank", (3, 4, 3, 3), u(2, 3, 7, 6),
             bad=(u(3, 7), ["SpatialConvolution", "(3, 7)"])),
    conv_row("SpatialConvolution-kernel-too-large", (2, 3, 5, 4), u(2, 2, 6, 5),
             bad=(u(2, 2, 3, 9), ["SpatialConvolution", "larger than the padded input", "(2, 2, 3, 9)"])),
    conv_row("SpatialConvolution-stride-pad", (3, 5, 3, 2, 2, 3, 1, 2), u(3, 3, 11, 9), x1=u(3, 10, 8)),
    conv_row("SpatialConvolution-batch1", (2, 3, 5, 5, 1, 1, 2, 2), u(1, 2, 9, 9)),
    conv_row("SpatialConvolution-groups", (6, 4, 3, 3, 1, 1, 1, 1), u(2, 6, 8, 7), kw={"n_group": 2}, x1=u(6, 8, 7)),
    conv_row("SpatialConvolution-groups3", (6, 9, 2, 3, 2, 1), u(2, 6, 7, 9), kw={"n_group": 3}),
    conv_row("SpatialConvolution-same", (3, 4, 3, 3, 2, 2, -1, -1), u(2, 3, 9, 8), x1=u(3, 7, 6)),
    conv_row("SpatialConvolution-same-even", (2, 3, 4, 2, 1, 3, -1, -1), u(2, 2, 7, 8)),
    conv_row("SpatialConvolution-nobias", (3, 4, 3, 3), u(2, 3, 6, 6), kw={"with_bias": False}),
    conv_row("SpatialConvolution-NHWC", (3, 5, 3, 2, 1, 2, 1, 0), u(2, 7, 6, 3), kw={"data_format": "NHWC"},
             x1=u(7, 6, 3), bad=(u(2, 7, 6, 4), ["SpatialConvolution", "(2, 7, 6, 4)"])),
    conv_row("SpatialConvolution-NHWC-same", (2, 3, 3, 3, 2, 2, -1, -1), u(2, 9, 7, 2), kw={"data_format": "NHWC"}),
    # Stride 1 without padding takes the wide im2col path: with groups, in NHWC, unbatched.
    conv_row("SpatialConvolution-wide-groups", (4, 6, 3, 2), u(3, 4, 6, 9), kw={"n_group": 2}, x1=u(4, 5, 5)),
    conv_row("SpatialConvolution-wide-NHWC", (3, 4, 2, 3), u(2, 6, 7, 3), kw={"data_format": "NHWC"}, x1=u(5, 4, 3)),
    # LeNet-5's shapes, and a chunk boundary inside the batch (many images of 24x24 outputs).
    conv_row("SpatialConvolution-lenet1", (1, 6, 5, 5), u(5, 1, 28, 28)),
    conv_row("SpatialConvolution-lenet2", (6, 12, 5, 5), u(3, 6, 12, 12)),
    conv_row("SpatialConvolution-chunks", (20, 3, 5, 5), u(37, 20, 28, 28)),

    LayerRow("SpatialDilatedConvolution", lambda: SpatialDilatedConvolution(3, 4, 3, 2, 1, 2, 1, 0, 2, 3),
             u(2, 3, 13, 9), lambda x, W, b: F.conv2d(x, W, b, stride=(2, 1), padding=(0, 1), dilation=(3, 2)),
             x1=u(3, 12, 8), params=[(4, 3, 2, 3), (4,)], fan=(18, 24), init_args=("wRegularizer", "bRegularizer"),
             bad=(u(2, 3, 3, 9), ["SpatialDilatedConvolution", "larger than the padded input", "(2, 3, 3, 9)"])),
    LayerRow("SpatialDilatedConvolution-plain", lambda: SpatialDilatedConvolution(2, 3, 3, 3), u(2, 2, 6, 7),
             lambda x, W, b: F.conv2d(x, W, b), params=[(3, 2, 3, 3), (3,)], fan=(18, 27)),

    LayerRow("SpatialMaxPooling", lambda: SpatialMaxPooling(2, 2, 2, 2), u(2, 3, 8, 6), maxpool_ref(2, 2, 2, 2),
             x1=u(3, 8, 6), bad=(u(3, 5), ["SpatialMaxPooling", "(3, 5)"])),
    LayerRow("SpatialMaxPooling-stride-pad", lambda: SpatialMaxPooling(3, 2, 2, 1, 1, 1), u(2, 3, 7, 9),
             maxpool_ref(3, 2, 2, 1, 1, 1), x1=u(3, 7, 9)),
    LayerRow("SpatialMaxPooling-ceil", lambda: SpatialMaxPooling(3, 3, 2, 2, to_ceil=True), u(2, 2, 8, 10),
             maxpool_ref(3, 3, 2, 2, ceil=True), x1=u(2, 8, 10)),
    LayerRow("SpatialMaxPooling-ceil-method", lambda: SpatialMaxPooling(3, 3, 2, 2, 1, 1).ceil(), u(2, 2, 8, 9),
             maxpool_ref(3, 3, 2, 2, 1, 1, ceil=True)),
    LayerRow("SpatialMaxPooling-floor-method", lambda: SpatialMaxPooling(3, 3, 2, 2, to_ceil=True).floor(),
             u(2, 2, 8, 10), maxpool_ref(3, 3, 2, 2)),
    LayerRow("SpatialMaxPooling-same", lambda: SpatialMaxPooling(3, 3, 2, 2, -1, -1), u(2, 2, 7, 8),
             maxpool_ref(3, 3, 2, 2, -1, -1)),
    LayerRow("SpatialMaxPooling-NHWC", lambda: SpatialMaxPooling(2, 3, 2, 1, format="NHWC"), u(2, 7, 6, 3),
             maxpool_ref(2, 3, 2, 1, fmt="NHWC"), x1=u(7, 6, 3)),
    LayerRow("SpatialMaxPooling-too-large", lambda: SpatialMaxPooling(4, 4, 1, 1), u(2, 2, 5, 5),
             maxpool_ref(4, 4, 1, 1), bad=(u(2, 2, 3, 6), ["SpatialMaxPooling", "larger than the padded input",
                                                         "(2, 2, 3, 6)"])),

    LayerRow("SpatialAveragePooling", lambda: SpatialAveragePooling(2, 2, 2, 2), u(2, 3, 8, 6),
             avgpool_ref(2, 2, 2, 2), x1=u(3, 8, 6), bad=(u(3, 5), ["SpatialAveragePooling", "(3, 5)"])),
    LayerRow("SpatialAveragePooling-pad", lambda: SpatialAveragePooling(3, 3, 2, 2, 1, 1), u(2, 2, 7, 8),
             avgpool_ref(3, 3, 2, 2, 1, 1)),
    LayerRow("SpatialAveragePooling-exclude-pad", lambda: SpatialAveragePooling(3, 2, 2, 1, 1, 1, count_include_pad=False),
             u(2, 2, 7, 8), avgpool_ref(3, 2, 2, 1, 1, 1, include=False)),
    LayerRow("SpatialAveragePooling-ceil", lambda: SpatialAveragePooling(3, 3, 2, 2, 1, 1, ceil_mode=True),
             u(2, 2, 8, 8), avgpool_ref(3, 3, 2, 2, 1, 1, ceil=True), x1=u(2, 8, 8)),
    LayerRow("SpatialAveragePooling-global", lambda: SpatialAveragePooling(2, 2, global_pooling=True), u(2, 3, 5, 7),
             avgpool_ref(2, 2, 1, 1, glob=True), x1=u(3, 5, 7)),
    LayerRow("SpatialAveragePooling-nodivide", lambda: SpatialAveragePooling(2, 3, 1, 2, divide=False), u(2, 2, 7, 6),
             avgpool_ref(2, 3, 1, 2, divide=False)),
    LayerRow("SpatialAveragePooling-NHWC", lambda: SpatialAveragePooling(3, 2, 2, 2, format="NHWC"), u(2, 7, 9, 3),
             avgpool_ref(3, 2, 2, 2, fmt="NHWC"), x1=u(7, 9, 3)),

    LayerRow("SpatialZeroPadding", lambda: SpatialZeroPadding(1, 2, 3, 0), u(2, 3, 4, 5), lambda x: F.pad(x, (1, 2, 3, 0)),
             x1=u(3, 4, 5), bad=(u(4, 5), ["SpatialZeroPadding", "(4, 5)"])),
    LayerRow("SpatialZeroPadding-crop", lambda: SpatialZeroPadding(-1, 2, 0, -2), u(2, 3, 6, 5),
             lambda x: F.pad(x, (-1, 2, 0, -2)), x1=u(3, 6, 5),
             bad=(u(2, 3, 2, 5), ["SpatialZeroPadding", "(2, 3, 2, 5)"])),


    LayerRow("TemporalConvolution", lambda: TemporalConvolution(4, 3, 3), u(2, 7, 4), temporal_conv_ref(3, 1, 4),
             x1=u(6, 4), params=[(3, 12), (3,)], fan=(12, 3),
             init_args=("weight_regularizer", "bias_regularizer", "init_weight", "init_bias"),
             bad=(u(2, 7, 5), ["TemporalConvolution", "(2, 7, 5)"])),
    LayerRow("TemporalConvolution-stride", lambda: TemporalConvolution(3, 5, 2, 3), u(3, 10, 3),
             temporal_conv_ref(2, 3, 3), x1=u(9, 3), params=[(5, 6), (5,)], fan=(6, 5),
             bad=(u(2, 1, 3), ["TemporalConvolution", "longer than", "(2, 1, 3)"])),
    LayerRow("TemporalMaxPooling", lambda: TemporalMaxPooling(2), u(3, 8, 5), temporal_max_ref(2, 2), x1=u(7, 5),
             bad=(u(5,), ["TemporalMaxPooling", "(5,)"])),
    LayerRow("TemporalMaxPooling-overlap", lambda: TemporalMaxPooling(3, 1), u(2, 6, 4), temporal_max_ref(3, 1),
             x1=u(5, 4), bad=(u(2, 2, 4), ["TemporalMaxPooling", "longer than", "(2, 2, 4)"])),

    # Dropout rows run in evaluation mode (the scaled identity); test_conv.py checks training.
    LayerRow("SpatialDropout1D-eval", lambda: SpatialDropout1D(0.3).evaluate(), u(2, 5, 4), lambda x: x * 0.7,
             x1=u(5, 4), bad=(u(4,), ["SpatialDropout1D", "(4,)"])),
    LayerRow("SpatialDropout2D-eval", lambda: SpatialDropout2D(0.25, "NHWC").evaluate(), u(2, 3, 4, 5),
             lambda x: x * 0.75, x1=u(3, 4, 5)),
    LayerRow("SpatialDropout3D-eval", lambda: SpatialDropout3D(0.5).evaluate(), u(2, 3, 2, 4, 5), lambda x: x * 0.5,
             x1=u(3, 2, 4, 5)),

    LayerRow("UpSampling1D", lambda: UpSampling1D(3), u(2, 4, 5), lambda x: x.repeat_interleave(3, dim=1),
             bad=(u(4, 5), ["UpSampling1D", "(4, 5)"])),
    LayerRow("UpSampling2D", lambda: UpSampling2D([2, 3]), u(2, 3, 4, 5),
             lambda x: x.repeat_interleave(2, dim=2).repeat_interleave(3, dim=3), bad=(u(3, 4, 5), ["UpSampling2D", "(3, 4, 5)"])),
    LayerRow("UpSampling2D-nhwc", lambda: UpSampling2D([3, 2], "nhwc"), u(2, 4, 5, 3),
             lambda x: x.repeat_interleave(3, dim=1).repeat_interleave(2, dim=2)),

    LayerRow("Cropping2D", lambda: Cropping2D([1, 2], [0, 3]), u(2, 3, 6, 7), lambda x: x[:, :, 1:-2, 0:-3],
             bad=(u(3, 6, 7), ["Cropping2D", "(3, 6, 7)"])),
    LayerRow("Cropping2D-NHWC", lambda: Cropping2D([2, 0], [1, 1], "NHWC"), u(2, 5, 6, 3), lambda x: x[:, 2:, 1:-1, :],
             bad=(u(2, 2, 2, 3), ["Cropping2D", "(2, 2, 2, 3)"])),

    # Training rows normalise with the batch's statistics; the evaluation rows with running
    # statistics set beforehand. test_batchnorm.py checks the running statistics themselves.
    LayerRow("BatchNormalization", lambda: BatchNormalization(5), u(6, 5), bn_ref(True), params=[(5,), (5,)],
             init_args=BN_INIT_ARGS, bad=(u(6, 4), ["BatchNormalization", "(batch, 5)", "(6, 4)"])),
    LayerRow("BatchNormalization-noaffine", lambda: BatchNormalization(5, 1e-3, 0.3, False), u(4, 5),
             bn_ref(True, 1e-3), bad=(u(5,), ["BatchNormalization", "in training", "(5,)"])),
    LayerRow("BatchNormalization-eval", lambda: bn_eval(BatchNormalization(5), 5), u(6, 5),
             bn_ref(False, running=(BN_MEAN, BN_VAR)), x1=u(5), params=[(5,), (5,)],
             bad=(u(2, 5, 1), ["BatchNormalization", "(2, 5, 1)"])),
    LayerRow("SpatialBatchNormalization", lambda: SpatialBatchNormalization(3), u(4, 3, 5, 6), bn_ref(True),
             params=[(3,), (3,)], init_args=BN_INIT_ARGS,
             bad=(u(4, 2, 5, 6), ["SpatialBatchNormalization", "(batch, 3, H, W)", "(4, 2, 5, 6)"])),
    LayerRow("SpatialBatchNormalization-NHWC", lambda: SpatialBatchNormalization(3, data_format="NHWC"),
             u(2, 4, 5, 3), bn_ref(True, fmt="NHWC"), params=[(3,), (3,)],
             bad=(u(2, 3, 5, 4), ["SpatialBatchNormalization", "(batch, H, W, 3)", "(2, 3, 5, 4)"])),
    LayerRow("SpatialBatchNormalization-noaffine", lambda: SpatialBatchNormalization(4, 1e-4, 0.5, False),
             u(3, 4, 2, 3), bn_ref(True, 1e-4), bad=(u(4, 2, 3), ["SpatialBatchNormalization", "in training", "(4, 2, 3)"])),
    LayerRow("SpatialBatchNormalization-eval", lambda: bn_eval(SpatialBatchNormalization(5), 5), u(2, 5, 3, 4),
             bn_ref(False, running=(BN_MEAN, BN_VAR)), x1=u(5, 3, 4), params=[(5,), (5,)],
             bad=(u(2, 5, 3), ["SpatialBatchNormalization", "(2, 5, 3)"])),
    LayerRow("SpatialBatchNormalization-NHWC-eval",
             lambda: bn_eval(SpatialBatchNormalization(4, data_format="NHWC"), 4), u(2, 3, 5, 4),
             bn_ref(False, running=(BN_MEAN[:4], BN_VAR[:4]), fmt="NHWC"), x1=u(3, 5, 4), params=[(4,), (4,)],
             bad=(u(2, 3, 5, 5), ["SpatialBatchNormalization", "(2, 3, 5, 5)"])),
]
