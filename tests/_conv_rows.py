"""Harness rows (see _layer_rows.py) for the convolution, pooling and normalisation
layers. BigDL's layouts are converted to PyTorch's here: the 5-D grouped weight
(groups, out/groups, in/groups, kh, kw) becomes (out, in/groups, kh, kw), the NHWC
weight (1, kh, kw, in, out) becomes (out, in, kh, kw), width-before-height arguments
become PyTorch's (height, width) pairs, and SAME padding is spelt out."""
import math

import numpy as np
import torch
import torch.nn.functional as F

import numpy as np

from bigdl.nn.layer import (SpatialAveragePooling, SpatialConvolution, SpatialDilatedConvolution, SpatialMaxPooling,
                            SpatialZeroPadding, TemporalConvolution, TemporalMaxPooling,
                            SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, UpSampling1D, UpSampling2D, Cropping2D,
                            VolumetricConvolution, VolumetricMaxPooling, VolumetricAveragePooling, LocallyConnected1D,
                            LocallyConnected2D, SpatialFullConvolution, SpatialCrossMapLRN, ResizeBilinear, UpSampling3D, Cropping3D,
                            BatchNormalization, SpatialBatchNormalization)

from _layer_rows import LayerRow, table, u


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


def batched_or_not(f, rank=4):
    """f for batched input of the given rank, also given one sample (a rank less)."""
    def g(x, *w):
        if x.dim() == rank - 1:
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


def vol_conv_ref(kt, kw, kh, dt=1, dw=1, dh=1, pt=0, pw=0, ph=0, bias=True):
    """BigDL's time, width, height arguments as conv3d's (time, height, width)."""
    def f(x, W, b=None):
        if not bias:
            b = None
        if pt == -1:
            (f0, f1), (t, bo), (le, r) = (same_pad(x.shape[-3], kt, dt), same_pad(x.shape[-2], kh, dh),
                                          same_pad(x.shape[-1], kw, dw))
            return F.conv3d(F.pad(x, (le, r, t, bo, f0, f1)), W, b, stride=(dt, dh, dw))
        return F.conv3d(x, W, b, stride=(dt, dh, dw), padding=(pt, ph, pw))
    return batched_or_not(f, 5)


def vol_conv_row(name, args, x, kw={}, x1=None, bad=None):
    n_in, n_out, k_t, k_w, k_h = args[:5]
    bias = kw.get("with_bias", True)
    r = k_t * k_w * k_h
    return LayerRow(name, lambda: VolumetricConvolution(*args, **kw), x, vol_conv_ref(*args[2:], bias=bias), x1=x1,
                    params=[(n_out, n_in, k_t, k_h, k_w)] + ([(n_out,)] if bias else []), fan=(n_in * r, n_out * r),
                    init_args=("wRegularizer", "bRegularizer"), bad=bad)


def vol_pool_ref(kt, kw, kh, dt, dw, dh, pt=0, pw=0, ph=0, include=True, ceil=False, avg=False):
    def f(x):
        if avg:
            return F.avg_pool3d(x, (kt, kh, kw), (dt, dh, dw), (pt, ph, pw), ceil_mode=ceil, count_include_pad=include)
        return F.max_pool3d(x, (kt, kh, kw), (dt, dh, dw), (pt, ph, pw))
    return batched_or_not(f, 5)


def local1d_ref(kw, dw):
    """(N, T, F) windows as (N, out frames, kw·F) rows, each frame's own (out, kw·F) filter."""
    def f(x, W, b):
        win = x.unfold(1, kw, dw).transpose(2, 3)  # (N, frames, kw, F)
        return torch.einsum("ntk,tok->nto", win.reshape(*win.shape[:2], -1), W) + b
    return batched_or_not(f, 3)


def local2d_ref(kw, kh, dw=1, dh=1, pw=0, ph=0, fmt="NCHW", bias=True):
    """Each position's own filter over F.unfold's (c, kh, kw) patches ((kh, kw, c) in NHWC). The
    bias is added in storage order to a sample's output, as BigDL's Tensor.add does."""
    def f(x, W, b=None):
        if fmt == "NHWC":
            x = x.permute(0, 3, 1, 2)
        n, c, h, w = x.shape
        if pw == -1:
            (t, bo), (le, r) = same_pad(h, kh, dh), same_pad(w, kw, dw)
            x, pad = F.pad(x, (le, r, t, bo)), (0, 0)
        else:
            pad = (ph, pw)
        cols = F.unfold(x, (kh, kw), padding=pad, stride=(dh, dw))  # (N, c·kh·kw, L)
        oh, ow = (x.shape[2] + 2 * pad[0] - kh) // dh + 1, (x.shape[3] + 2 * pad[1] - kw) // dw + 1
        if fmt == "NHWC":
            cols = cols.reshape(n, c, kh * kw, -1).transpose(1, 2).reshape(n, c * kh * kw, -1)
            y = torch.einsum("nkl,lok->nlo", cols, W)
            y = y + b if bias else y
            return y.reshape(n, oh, ow, -1)
        y = torch.einsum("nkl,lok->nol", cols, W)
        y = y + b.reshape(y.shape[1:]) if bias else y
        return y.reshape(n, -1, oh, ow)
    return batched_or_not(f, 4)


def local2d_row(name, args, x, kw={}, x1=None, bad=None):
    n_in, in_w, in_h, n_out, k_w, k_h = args[:6]
    dw, dh, pw, ph = (list(args[6:10]) + [1, 1, 0, 0][len(args[6:10]):])
    if pw == -1:
        oh, ow = math.ceil(in_h / dh), math.ceil(in_w / dw)
    else:
        oh, ow = (in_h + 2 * ph - k_h) // dh + 1, (in_w + 2 * pw - k_w) // dw + 1
    bias = kw.get("with_bias", True)
    params = [(oh * ow, n_out, n_in * k_h * k_w)] + ([(oh * ow, n_out)] if bias else [])
    return LayerRow(name, lambda: LocallyConnected2D(*args, **kw), x,
                    local2d_ref(k_w, k_h, dw, dh, pw, ph, kw.get("data_format", "NCHW"), bias), x1=x1, params=params,
                    fan=(n_in * k_w * k_h, n_out * k_w * k_h),
                    init_args=("wRegularizer", "bRegularizer", "init_weight", "init_bias"), bad=bad)
def full_conv_row(name, args, x, kw={}, x1=None, bad=None):
    """SpatialFullConvolution against conv_transpose2d: BigDL's (groups, in/groups, out/groups,
    kh, kw) weight is PyTorch's (in, out/groups, kh, kw), adj is output_padding."""
    n_in, n_out, k_w, k_h = args[:4]
    d_w, d_h, p_w, p_h, a_w, a_h = (list(args[4:10]) + [1, 1, 0, 0, 0, 0][len(args[4:10]):])
    groups, bias = kw.get("n_group", 1), not kw.get("no_bias", False)

    def ref(x, W, b=None):
        return F.conv_transpose2d(x, W.reshape(n_in, n_out // groups, k_h, k_w), b, stride=(d_h, d_w),
                                  padding=(p_h, p_w), output_padding=(a_h, a_w), groups=groups)
    params = [(groups, n_in // groups, n_out // groups, k_h, k_w)] + ([(n_out,)] if bias else [])
    return LayerRow(name, lambda: SpatialFullConvolution(*args, **kw), x, batched_or_not(ref), x1=x1, params=params,
                    fan=(n_in * k_w * k_h, n_out * k_w * k_h), init_args=("wRegularizer", "bRegularizer"), bad=bad)


def full_conv_to_target(n_in, n_out, k_w, k_h, d_w, d_h, p_w, p_h):
    """SpatialFullConvolution on a table [x, target]: PyTorch's ConvTranspose2d given the
    target's last two dimensions as output_size."""
    def ref(x, W, b):
        m = torch.nn.ConvTranspose2d(n_in, n_out, (k_h, k_w), (d_h, d_w), (p_h, p_w)).double()
        del m.weight, m.bias
        m.weight, m.bias = W.reshape(n_in, n_out, k_h, k_w), b
        return m(x[0], output_size=list(x[1].shape[-2:]))
    return ref


def tf_resize_bilinear(x, oh, ow, align, nhwc=False):
    """TensorFlow's resize_bilinear, which BigDL's ResizeBilinear is (not PyTorch's half-pixel
    interpolate): output i samples input i·scale, scale = in/out or, aligned, (in−1)/(out−1)."""
    x = np.asarray(x, np.float64)
    if nhwc:
        x = x.transpose(0, 3, 1, 2)

    def taps(n_in, n_out):
        scale = (n_in - 1) / (n_out - 1) if align and n_out > 1 else n_in / n_out
        pos = np.arange(n_out) * scale
        lo = np.floor(pos).astype(int)
        return lo, np.minimum(lo + 1, n_in - 1), pos - lo
    (y0, y1, ty), (x0, x1, tx) = taps(x.shape[2], oh), taps(x.shape[3], ow)
    top = x[:, :, y0][..., x0] * (1 - tx) + x[:, :, y0][..., x1] * tx
    bot = x[:, :, y1][..., x0] * (1 - tx) + x[:, :, y1][..., x1] * tx
    y = top * (1 - ty)[:, None] + bot * ty[:, None]
    return y.transpose(0, 2, 3, 1) if nhwc else y


def lrn_ref(size, alpha, beta, k, fmt="NCHW"):
    """BigDL's alpha is divided by size over a window centred on the channel: PyTorch's
    local_response_norm for odd size, the only size BigDL takes."""
    f = lambda x: F.local_response_norm(x, size, alpha, beta, k)
    return nhwc(f) if fmt == "NHWC" else f


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

    vol_conv_row("VolumetricConvolution", (3, 4, 2, 3, 3), u(2, 3, 4, 6, 5), x1=u(3, 4, 6, 5),
                 bad=(u(2, 5, 4, 6, 5), ["VolumetricConvolution", "(2, 5, 4, 6, 5)"])),
    vol_conv_row("VolumetricConvolution-rank", (3, 4, 2, 3, 3), u(2, 3, 4, 6, 5),
                 bad=(u(3, 4, 5), ["VolumetricConvolution", "(3, 4, 5)"])),
    vol_conv_row("VolumetricConvolution-kernel-too-large", (2, 3, 3, 2, 2), u(2, 2, 4, 5, 5),
                 bad=(u(2, 2, 2, 5, 5), ["VolumetricConvolution", "larger than the padded input", "(2, 2, 2, 5, 5)"])),
    vol_conv_row("VolumetricConvolution-stride-pad", (2, 3, 3, 2, 3, 2, 1, 2, 1, 1, 0), u(3, 2, 7, 8, 9), x1=u(2, 6, 7, 5)),
    vol_conv_row("VolumetricConvolution-batch1", (2, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1), u(1, 2, 5, 5, 5)),
    vol_conv_row("VolumetricConvolution-nobias", (3, 2, 2, 2, 2, 2, 2, 2), u(2, 3, 5, 6, 7), kw={"with_bias": False}),
    vol_conv_row("VolumetricConvolution-same", (2, 3, 3, 2, 3, 2, 1, 2, -1, -1, -1), u(2, 2, 5, 6, 7), x1=u(2, 4, 5, 3)),
    # A chunk boundary inside the batch (vol2col of 11 volumes at a time) and a row past the kernels' tiles.
    vol_conv_row("VolumetricConvolution-chunks", (4, 5, 2, 3, 3, 1, 1, 1, 0, 1, 1), u(25, 4, 6, 8, 8)),
    vol_conv_row("VolumetricConvolution-wide", (1, 2, 1, 3, 1), u(2, 1, 2, 3, 37)),

    LayerRow("VolumetricMaxPooling", lambda: VolumetricMaxPooling(2, 2, 2, 2, 2, 2), u(2, 3, 4, 6, 8),
             vol_pool_ref(2, 2, 2, 2, 2, 2), x1=u(3, 4, 6, 8), bad=(u(3, 4, 5), ["VolumetricMaxPooling", "(3, 4, 5)"])),
    LayerRow("VolumetricMaxPooling-stride-pad", lambda: VolumetricMaxPooling(3, 2, 3, 2, 1, 2, 1, 1, 1), u(2, 2, 7, 9, 6),
             vol_pool_ref(3, 2, 3, 2, 1, 2, 1, 1, 1), x1=u(2, 7, 9, 6)),
    LayerRow("VolumetricMaxPooling-batch1", lambda: VolumetricMaxPooling(1, 3, 2, 1, 3, 2), u(1, 2, 3, 5, 7),
             vol_pool_ref(1, 3, 2, 1, 3, 2),
             bad=(u(1, 2, 3, 1, 7), ["VolumetricMaxPooling", "larger than the padded input", "(1, 2, 3, 1, 7)"])),

    LayerRow("VolumetricAveragePooling", lambda: VolumetricAveragePooling(2, 2, 2, 2, 2, 2), u(2, 3, 4, 6, 8),
             vol_pool_ref(2, 2, 2, 2, 2, 2, avg=True), x1=u(3, 4, 6, 8),
             bad=(u(3, 4, 5), ["VolumetricAveragePooling", "(3, 4, 5)"])),
    LayerRow("VolumetricAveragePooling-pad", lambda: VolumetricAveragePooling(3, 3, 2, 2, 2, 1, 1, 1, 1), u(2, 2, 5, 6, 7),
             vol_pool_ref(3, 3, 2, 2, 2, 1, 1, 1, 1, avg=True), x1=u(2, 5, 6, 7)),
    LayerRow("VolumetricAveragePooling-exclude-pad", lambda: VolumetricAveragePooling(3, 2, 3, 2, 1, 2, 1, 1, 1, False),
             u(2, 2, 5, 7, 6), vol_pool_ref(3, 2, 3, 2, 1, 2, 1, 1, 1, include=False, avg=True)),
    LayerRow("VolumetricAveragePooling-ceil", lambda: VolumetricAveragePooling(2, 3, 3, 2, 2, 2, 0, 1, 1, ceil_mode=True),
             u(2, 2, 5, 8, 7), vol_pool_ref(2, 3, 3, 2, 2, 2, 0, 1, 1, ceil=True, avg=True), x1=u(2, 5, 8, 7)),
    # BigDL refuses a window larger than the unpadded input (PyTorch pads first).
    LayerRow("VolumetricAveragePooling-too-large", lambda: VolumetricAveragePooling(3, 2, 2, 1, 1, 1, 1, 1, 1),
             u(1, 2, 3, 4, 4), vol_pool_ref(3, 2, 2, 1, 1, 1, 1, 1, 1, avg=True),
             bad=(u(1, 2, 2, 4, 4), ["VolumetricAveragePooling", "larger than the input", "(1, 2, 2, 4, 4)"])),

    # BigDL's fans for LocallyConnected1D's 3-D weight are OUT_IN's reading of its first two axes
    # (output_frame_size, output frames); the default draw's bound is 1/sqrt(kernel_w·input_frame_size).
    LayerRow("LocallyConnected1D", lambda: LocallyConnected1D(7, 4, 3, 3), u(2, 7, 4), local1d_ref(3, 1), x1=u(7, 4),
             params=[(5, 3, 12), (5, 3)], fan=(12, 3), init_fans=(3, 5),
             init_args=("weight_regularizer", "bias_regularizer", "init_weight", "init_bias"),
             bad=(u(2, 7, 5), ["LocallyConnected1D", "(2, 7, 5)"])),
    LayerRow("LocallyConnected1D-stride", lambda: LocallyConnected1D(10, 3, 5, 3, 2), u(3, 10, 3), local1d_ref(3, 2),
             x1=u(10, 3), params=[(4, 5, 9), (4, 5)], fan=(9, 5), init_fans=(5, 4),
             bad=(u(2, 9, 3), ["LocallyConnected1D", "(2, 9, 3)"])),
    LayerRow("LocallyConnected1D-batch1", lambda: LocallyConnected1D(5, 2, 17, 2, 3), u(1, 5, 2), local1d_ref(2, 3),
             params=[(2, 17, 4), (2, 17)], bad=(u(5,), ["LocallyConnected1D", "(5,)"])),

    local2d_row("LocallyConnected2D", (3, 6, 5, 4, 3, 3), u(2, 3, 5, 6), x1=u(3, 5, 6),
                bad=(u(2, 2, 5, 6), ["LocallyConnected2D", "(2, 2, 5, 6)"])),
    local2d_row("LocallyConnected2D-size", (3, 6, 5, 4, 3, 3), u(2, 3, 5, 6),
                bad=(u(2, 3, 6, 5), ["LocallyConnected2D", "(3, 5, 6)", "(2, 3, 6, 5)"])),
    local2d_row("LocallyConnected2D-rank", (3, 6, 5, 4, 3, 3), u(2, 3, 5, 6), bad=(u(3, 5), ["LocallyConnected2D", "(3, 5)"])),
    local2d_row("LocallyConnected2D-stride-pad", (2, 9, 7, 3, 3, 2, 2, 3, 1, 1), u(3, 2, 7, 9), x1=u(2, 7, 9)),
    local2d_row("LocallyConnected2D-batch1", (2, 5, 5, 17, 2, 2, 1, 1, 1, 1), u(1, 2, 5, 5)),
    local2d_row("LocallyConnected2D-nobias", (2, 5, 4, 3, 2, 3), u(2, 2, 4, 5), kw={"with_bias": False}),
    local2d_row("LocallyConnected2D-same", (2, 7, 6, 3, 3, 3, 2, 2, -1, -1), u(2, 2, 6, 7), x1=u(2, 6, 7)),
    local2d_row("LocallyConnected2D-NHWC", (3, 6, 5, 2, 2, 3, 2, 1, 1, 0), u(2, 5, 6, 3), kw={"data_format": "NHWC"},
                x1=u(5, 6, 3), bad=(u(2, 3, 5, 6), ["LocallyConnected2D", "(5, 6, 3)", "(2, 3, 5, 6)"])),
    # Many samples: chunks of 36 samples, the last one partial.
    local2d_row("LocallyConnected2D-chunks", (8, 12, 12, 3, 3, 3), u(40, 8, 12, 12)),
    full_conv_row("SpatialFullConvolution", (3, 4, 3, 3), u(2, 3, 5, 4), x1=u(3, 5, 4),
                  bad=(u(2, 5, 5, 4), ["SpatialFullConvolution", "(2, 5, 5, 4)"])),
    full_conv_row("SpatialFullConvolution-rank", (3, 4, 3, 3), u(2, 3, 5, 4),
                  bad=(u(3, 5), ["SpatialFullConvolution", "(3, 5)"])),
    # Padding larger than the output a 1x1 input spans: nothing left of the output.
    full_conv_row("SpatialFullConvolution-output-too-small", (2, 3, 3, 3, 1, 1, 2, 1), u(2, 2, 4, 4),
                  bad=(u(2, 2, 1, 1), ["SpatialFullConvolution", "(2, 2, 1, 1)", "-1 x 1"])),
    full_conv_row("SpatialFullConvolution-stride-pad-adj", (3, 5, 3, 4, 2, 3, 1, 2, 1, 2), u(3, 3, 4, 5),
                  x1=u(3, 5, 4)),
    full_conv_row("SpatialFullConvolution-batch1", (2, 3, 4, 4, 2, 2, 1, 1), u(1, 2, 6, 6)),
    full_conv_row("SpatialFullConvolution-groups", (6, 4, 3, 2, 2, 1, 1, 0, 1, 0), u(2, 6, 5, 4), kw={"n_group": 2},
                  x1=u(6, 4, 5)),
    # Stride 1 without padding takes the wide im2col path.
    full_conv_row("SpatialFullConvolution-wide-groups", (4, 6, 2, 3), u(3, 4, 5, 6), kw={"n_group": 2}, x1=u(4, 3, 7)),
    full_conv_row("SpatialFullConvolution-nobias", (4, 3, 2, 2, 2, 2), u(2, 4, 3, 5), kw={"no_bias": True}),
    full_conv_row("SpatialFullConvolution-1x1", (5, 2, 1, 1), u(3, 5, 4, 3)),
    # A table [x, target]: the target's size picks adj (here 1 on the height, 0 on the width).
    LayerRow("SpatialFullConvolution-table", lambda: SpatialFullConvolution(3, 2, 3, 3, 2, 2, 1, 1), table(u(2, 3, 4, 5), u(2, 1, 8, 9)),
             full_conv_to_target(3, 2, 3, 3, 2, 2, 1, 1), x1=table(u(3, 4, 5), u(8, 9)), params=[(1, 3, 2, 3, 3), (2,)],
             bad=(table(u(2, 3, 4, 5)), ["SpatialFullConvolution", "[input, target]", "{(2, 3, 4, 5)}"])),
    LayerRow("SpatialFullConvolution-table-stride3", lambda: SpatialFullConvolution(2, 2, 5, 3, 3, 1), table(u(2, 2, 3, 3), u(5, 12)),
             full_conv_to_target(2, 2, 5, 3, 3, 1, 0, 0), params=[(1, 2, 2, 3, 5), (2,)],
             bad=(table(u(2, 2, 3, 3), u(4, 4)), ["SpatialFullConvolution", "target size 4 x 4", "5 x 3"])),
    # Many images of 16x16 outputs: more than one chunk of the batch shares a product.
    full_conv_row("SpatialFullConvolution-chunks", (8, 16, 4, 4, 2, 2, 1, 1), u(40, 8, 8, 8)),

    LayerRow("SpatialCrossMapLRN", lambda: SpatialCrossMapLRN(), u(2, 7, 4, 3), lrn_ref(5, 1.0, 0.75, 1.0),
             bad=(u(7, 4, 3), ["SpatialCrossMapLRN", "(7, 4, 3)"])),
    # beta 0.75 (the default), 0.5 and any other take different paths to scale^(−beta).
    LayerRow("SpatialCrossMapLRN-args", lambda: SpatialCrossMapLRN(3, 2.0, 0.5, 0.5), u(3, 2, 5, 4),
             lrn_ref(3, 2.0, 0.5, 0.5)),
    LayerRow("SpatialCrossMapLRN-wide", lambda: SpatialCrossMapLRN(7, 1e-2, 0.75, 2.0), u(2, 4, 3, 3, lo=-3, hi=3),
             lrn_ref(7, 1e-2, 0.75, 2.0)),
    LayerRow("SpatialCrossMapLRN-NHWC", lambda: SpatialCrossMapLRN(5, 1.5, 0.6, 1.0, "NHWC"), u(2, 4, 3, 6),
             lrn_ref(5, 1.5, 0.6, 1.0, "NHWC"), bad=(u(4, 3, 6), ["SpatialCrossMapLRN", "(4, 3, 6)"])),

    # Aligned corners are PyTorch's align_corners=True.
    LayerRow("ResizeBilinear-align", lambda: ResizeBilinear(7, 5, True), u(2, 3, 4, 3),
             lambda x: F.interpolate(x, size=(7, 5), mode="bilinear", align_corners=True),
             bad=(u(3, 4, 3), ["ResizeBilinear", "(3, 4, 3)"])),
    LayerRow("ResizeBilinear-align-down", lambda: ResizeBilinear(3, 2, align_corner=True), u(2, 2, 7, 5),
             lambda x: F.interpolate(x, size=(3, 2), mode="bilinear", align_corners=True)),
    # Otherwise BigDL samples at i·in/out (TensorFlow), PyTorch at (i + 0.5)·in/out − 0.5.
    LayerRow("ResizeBilinear", lambda: ResizeBilinear(7, 5), u(2, 3, 4, 3), np_ref=lambda x: tf_resize_bilinear(x, 7, 5, False)),
    LayerRow("ResizeBilinear-down", lambda: ResizeBilinear(3, 4), u(2, 2, 7, 6), np_ref=lambda x: tf_resize_bilinear(x, 3, 4, False)),
    LayerRow("ResizeBilinear-NHWC", lambda: ResizeBilinear(5, 7, data_format="NHWC"), u(2, 3, 4, 3),
             np_ref=lambda x: tf_resize_bilinear(x, 5, 7, False, nhwc=True),
             bad=(u(2, 3, 4), ["ResizeBilinear", "(2, 3, 4)"])),
    LayerRow("ResizeBilinear-NHWC-align", lambda: ResizeBilinear(6, 2, True, "NHWC"), u(2, 3, 4, 2),
             nhwc(lambda x: F.interpolate(x, size=(6, 2), mode="bilinear", align_corners=True))),
    LayerRow("ResizeBilinear-same-size", lambda: ResizeBilinear(4, 3), u(2, 3, 4, 3), lambda x: x * 1),

    LayerRow("UpSampling3D", lambda: UpSampling3D([2, 1, 3]), u(2, 3, 2, 4, 3),
             lambda x: x.repeat_interleave(2, dim=2).repeat_interleave(3, dim=4),
             bad=(u(3, 2, 4, 3), ["UpSampling3D", "(3, 2, 4, 3)"])),
    LayerRow("UpSampling3D-all-axes", lambda: UpSampling3D([3, 2, 2]), u(1, 2, 2, 3, 2),
             lambda x: x.repeat_interleave(3, dim=2).repeat_interleave(2, dim=3).repeat_interleave(2, dim=4)),

    LayerRow("Cropping3D", lambda: Cropping3D([1, 1], [2, 0], [0, 1]), u(2, 3, 4, 5, 3),
             lambda x: x[:, :, 1:-1, 2:, 0:-1], bad=(u(3, 4, 5, 3), ["Cropping3D", "(3, 4, 5, 3)"])),
    LayerRow("Cropping3D-channel-last", lambda: Cropping3D([0, 2], [1, 1], [1, 0], "channel_last"), u(2, 4, 5, 3, 2),
             lambda x: x[:, 0:-2, 1:-1, 1:, :], bad=(u(2, 2, 5, 3, 2), ["Cropping3D", "(2, 2, 5, 3, 2)", "0 x 3 x 2"])),
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
