"""Convolution, pooling and normalisation layers (BigDL's bigdl.nn.layer names,
re-exported by bigdl.nn.layer). Arguments come width before height, as in BigDL."""
from bigdl.nn.layer import Layer, _not_yet

__all__ = ["SpatialConvolution", "SpatialDilatedConvolution", "SpatialFullConvolution", "SpatialMaxPooling",
           "SpatialAveragePooling", "SpatialCrossMapLRN", "SpatialZeroPadding", "TemporalConvolution",
           "TemporalMaxPooling", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "UpSampling1D",
           "UpSampling2D", "UpSampling3D", "ResizeBilinear", "Cropping2D", "Cropping3D", "VolumetricConvolution",
           "VolumetricMaxPooling", "VolumetricAveragePooling", "LocallyConnected1D", "LocallyConnected2D",
           "BatchNormalization", "SpatialBatchNormalization"]


def _init_params(layer, init_weight, init_bias, init_grad_weight, init_grad_bias, with_bias=True):
    """Applies the init_* arguments of BigDL's signatures: initial values used verbatim."""
    if init_weight is not None or init_bias is not None:
        weights = layer.get_weights()
        if init_weight is not None:
            weights[0] = init_weight
        if init_bias is not None:
            if not with_bias:
                raise ValueError("%s: init_bias given but the layer has no bias" % type(layer).__name__)
            weights[1] = init_bias
        layer.set_weights(weights)
    if init_grad_weight is not None or init_grad_bias is not None:
        _not_yet("%s init_grad_weight/init_grad_bias" % type(layer).__name__)


class SpatialConvolution(Layer):
    """2-D convolution of (C, H, W) or (N, C, H, W) input ((H, W, C) / (N, H, W, C) with
    data_format="NHWC"). Output size floor((in + 2·pad − k)/stride) + 1; pad_w = pad_h = -1 is
    TensorFlow's SAME. get_weights() gives the weight as (n_group, n_output_plane/n_group,
    n_input_plane/n_group, kernel_h, kernel_w) ((1, kernel_h, kernel_w, n_input_plane,
    n_output_plane) in NHWC) and the bias as (n_output_plane,).

    >>> conv = SpatialConvolution(6, 12, 5, 5)
    """

    def __init__(self, n_input_plane, n_output_plane, kernel_w, kernel_h, stride_w=1, stride_h=1, pad_w=0,
                 pad_h=0, n_group=1, propagate_back=True, wRegularizer=None, bRegularizer=None, init_weight=None,
                 init_bias=None, init_grad_weight=None, init_grad_bias=None, with_bias=True, data_format="NCHW",
                 bigdl_type="float"):
        super().__init__(None, bigdl_type, n_input_plane=n_input_plane, n_output_plane=n_output_plane,
                         kernel_w=kernel_w, kernel_h=kernel_h, stride_w=stride_w, stride_h=stride_h, pad_w=pad_w,
                         pad_h=pad_h, n_group=n_group, propagate_back=propagate_back, with_bias=with_bias,
                         data_format=data_format)
        self._set_regularizers(wRegularizer, bRegularizer)
        _init_params(self, init_weight, init_bias, init_grad_weight, init_grad_bias, with_bias)


class SpatialDilatedConvolution(Layer):
    """2-D convolution whose kernel taps are dilation_w / dilation_h pixels apart (à trous), over
    (C, H, W) or (N, C, H, W) input. Output size floor((in + 2·pad − (dilation·(k − 1) + 1))/d) + 1.
    get_weights() gives the weight as (n_output_plane, n_input_plane, kh, kw) and the bias as
    (n_output_plane,)."""

    def __init__(self, n_input_plane, n_output_plane, kw, kh, dw=1, dh=1, pad_w=0, pad_h=0, dilation_w=1,
                 dilation_h=1, wRegularizer=None, bRegularizer=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, n_input_plane=n_input_plane, n_output_plane=n_output_plane, kw=kw,
                         kh=kh, dw=dw, dh=dh, pad_w=pad_w, pad_h=pad_h, dilation_w=dilation_w, dilation_h=dilation_h)
        self._set_regularizers(wRegularizer, bRegularizer)


class SpatialFullConvolution(Layer):
    """Transposed 2-D convolution ("deconvolution") of (C, H, W) or (N, C, H, W) input: the
    adjoint of SpatialConvolution with the same kernel, stride and padding. Output size
    (in − 1)·d − 2·pad + k + adj per axis, adj_w < dw and adj_h < dh. get_weights() gives the
    weight as (n_group, n_input_plane/n_group, n_output_plane/n_group, kh, kw) and the bias (unless
    no_bias) as (n_output_plane,). Given a list [x, target], the last two dimensions of target set
    the output size in place of adj_w and adj_h (target's gradient is zero).

    >>> deconv = SpatialFullConvolution(1, 1, 1, 1)
    """

    def __init__(self, n_input_plane, n_output_plane, kw, kh, dw=1, dh=1, pad_w=0, pad_h=0, adj_w=0, adj_h=0,
                 n_group=1, no_bias=False, wRegularizer=None, bRegularizer=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, n_input_plane=n_input_plane, n_output_plane=n_output_plane, kw=kw,
                         kh=kh, dw=dw, dh=dh, pad_w=pad_w, pad_h=pad_h, adj_w=adj_w, adj_h=adj_h, n_group=n_group,
                         no_bias=no_bias)
        self._set_regularizers(wRegularizer, bRegularizer)


class SpatialMaxPooling(Layer):
    """Max over kw × kh windows moved by dw, dh of (C, H, W) or (N, C, H, W) input (format
    "NHWC": channels last). Output size op((in + 2·pad − k)/d) + 1, op floor, or ceil with
    to_ceil (or after .ceil()); pad_w = pad_h = -1 is SAME."""

    def __init__(self, kw, kh, dw, dh, pad_w=0, pad_h=0, to_ceil=False, format="NCHW", bigdl_type="float"):
        super().__init__(None, bigdl_type, kw=kw, kh=kh, dw=dw, dh=dh, pad_w=pad_w, pad_h=pad_h,
                         to_ceil=to_ceil, format=format)

    def ceil(self):
        """Rounds the output size up from now on; returns self."""
        self._call("set_ceil", {"on": True})
        return self

    def floor(self):
        """Rounds the output size down from now on; returns self."""
        self._call("set_ceil", {"on": False})
        return self


class SpatialAveragePooling(Layer):
    """Mean over kw × kh windows moved by dw, dh (the sum when divide is False).
    count_include_pad: padded zeros count in the divisor; global_pooling: one window over the
    whole image; ceil_mode rounds the output size up; pad_w = pad_h = -1 is SAME."""

    def __init__(self, kw, kh, dw=1, dh=1, pad_w=0, pad_h=0, global_pooling=False, ceil_mode=False,
                 count_include_pad=True, divide=True, format="NCHW", bigdl_type="float"):
        super().__init__(None, bigdl_type, kw=kw, kh=kh, dw=dw, dh=dh, pad_w=pad_w, pad_h=pad_h,
                         global_pooling=global_pooling, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                         divide=divide, format=format)


class SpatialCrossMapLRN(Layer):
    """Local response normalisation across channels of (N, C, H, W) input ((N, H, W, C) with
    data_format "NHWC"): y_c = x_c · (k + alpha/size · Σ x_j²)^(−beta), the sum over the size
    channels centred on c (size odd)."""

    def __init__(self, size=5, alpha=1.0, beta=0.75, k=1.0, data_format="NCHW", bigdl_type="float"):
        super().__init__(None, bigdl_type, size=size, alpha=alpha, beta=beta, k=k, data_format=data_format)


class SpatialZeroPadding(Layer):
    """Pads the last two dimensions of (C, H, W) or (N, C, H, W) input with zeros: pad_left and
    pad_right columns, pad_top and pad_bottom rows; a negative amount crops."""

    def __init__(self, pad_left, pad_right, pad_top, pad_bottom, bigdl_type="float"):
        super().__init__(None, bigdl_type, pad_left=pad_left, pad_right=pad_right, pad_top=pad_top,
                         pad_bottom=pad_bottom)


class TemporalConvolution(Layer):
    """1-D convolution over the frames of (T, input_frame_size) or (N, T, input_frame_size) input:
    output frame t is W · (frames t·stride_w … t·stride_w + kernel_w − 1, concatenated) + b, with
    W of shape (output_frame_size, kernel_w·input_frame_size)."""

    def __init__(self, input_frame_size, output_frame_size, kernel_w, stride_w=1, propagate_back=True,
                 weight_regularizer=None, bias_regularizer=None, init_weight=None, init_bias=None,
                 init_grad_weight=None, init_grad_bias=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, input_frame_size=input_frame_size, output_frame_size=output_frame_size,
                         kernel_w=kernel_w, stride_w=stride_w, propagate_back=propagate_back)
        self._set_regularizers(weight_regularizer, bias_regularizer)
        _init_params(self, init_weight, init_bias, init_grad_weight, init_grad_bias)


class TemporalMaxPooling(Layer):
    """Max over windows of k_w frames, d_w apart (d_w = -1: k_w), of each feature of (T, F) or
    (N, T, F) input."""

    def __init__(self, k_w, d_w=-1, bigdl_type="float"):
        super().__init__(None, bigdl_type, k_w=k_w, d_w=d_w)


class SpatialDropout1D(Layer):
    """In training, zeroes each feature (last dimension) of (T, F) or (N, T, F) input across all
    its frames with probability init_p, keeping the others unscaled; in evaluation, multiplies
    the input by 1 − init_p."""

    def __init__(self, init_p=0.5, bigdl_type="float"):
        super().__init__(None, bigdl_type, init_p=init_p)


class SpatialDropout2D(Layer):
    """SpatialDropout1D for the channels of (C, H, W) / (N, C, H, W) input (data_format "NHWC":
    channels last): whole feature maps are dropped."""

    def __init__(self, init_p=0.5, data_format="NCHW", bigdl_type="float"):
        super().__init__(None, bigdl_type, init_p=init_p, data_format=data_format)


class SpatialDropout3D(Layer):
    """SpatialDropout2D for (C, D, H, W) / (N, C, D, H, W) input (data_format "NHWC": channels
    last)."""

    def __init__(self, init_p=0.5, data_format="NCHW", bigdl_type="float"):
        super().__init__(None, bigdl_type, init_p=init_p, data_format=data_format)


class UpSampling1D(Layer):
    """Repeats each frame of (N, T, F) input length times: (N, T·length, F)."""

    def __init__(self, length, bigdl_type="float"):
        super().__init__(None, bigdl_type, length=length)


class UpSampling2D(Layer):
    """Repeats each pixel of (N, C, H, W) input size[0] times down and size[1] times across
    (nearest neighbour); data_format "nhwc" takes (N, H, W, C)."""

    def __init__(self, size, data_format="nchw", bigdl_type="float"):
        super().__init__(None, bigdl_type, size=[int(s) for s in size], data_format=data_format)


class UpSampling3D(Layer):
    """Repeats each voxel of (N, C, D, H, W) input size[0] times in depth, size[1] down and size[2]
    across (nearest neighbour)."""

    def __init__(self, size, bigdl_type="float"):
        super().__init__(None, bigdl_type, size=[int(s) for s in size])


class ResizeBilinear(Layer):
    """Bilinear resize of (N, C, H, W) input ((N, H, W, C) with data_format "NHWC") to
    output_height × output_width, as TensorFlow's resize_bilinear: output pixel i samples input
    position i·in/out, or i·(in − 1)/(out − 1) with align_corner."""

    def __init__(self, output_height, output_width, align_corner=False, data_format="NCHW", bigdl_type="float"):
        super().__init__(None, bigdl_type, output_height=output_height, output_width=output_width,
                         align_corner=align_corner, data_format=data_format)


class Cropping2D(Layer):
    """Trims heightCrop = [top, bottom] rows and widthCrop = [left, right] columns off
    (N, C, H, W) input ((N, H, W, C) with data_format "NHWC")."""

    def __init__(self, heightCrop, widthCrop, data_format="NCHW", bigdl_type="float"):
        super().__init__(None, bigdl_type, heightCrop=[int(v) for v in heightCrop],
                         widthCrop=[int(v) for v in widthCrop], data_format=data_format)


class VolumetricConvolution(Layer):
    """3-D convolution of (C, T, H, W) or (N, C, T, H, W) input; arguments come time, width,
    height. Output size floor((in + 2·pad − k)/d) + 1 per axis; pad_t = pad_w = pad_h = -1 is
    TensorFlow's SAME. get_weights() gives the weight as (n_output_plane, n_input_plane, k_t, k_h,
    k_w) and the bias as (n_output_plane,).

    >>> conv = VolumetricConvolution(6, 12, 5, 5, 5, 1, 1, 1)
    """

    def __init__(self, n_input_plane, n_output_plane, k_t, k_w, k_h, d_t=1, d_w=1, d_h=1, pad_t=0, pad_w=0,
                 pad_h=0, with_bias=True, wRegularizer=None, bRegularizer=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, n_input_plane=n_input_plane, n_output_plane=n_output_plane, k_t=k_t,
                         k_w=k_w, k_h=k_h, d_t=d_t, d_w=d_w, d_h=d_h, pad_t=pad_t, pad_w=pad_w, pad_h=pad_h,
                         with_bias=with_bias)
        self._set_regularizers(wRegularizer, bRegularizer)


class VolumetricMaxPooling(Layer):
    """Max over k_t × k_w × k_h windows moved by d_t, d_w, d_h of (C, T, H, W) or (N, C, T, H, W)
    input; padding (at most half the kernel) is never the maximum."""

    def __init__(self, k_t, k_w, k_h, d_t, d_w, d_h, pad_t=0, pad_w=0, pad_h=0, bigdl_type="float"):
        super().__init__(None, bigdl_type, k_t=k_t, k_w=k_w, k_h=k_h, d_t=d_t, d_w=d_w, d_h=d_h, pad_t=pad_t,
                         pad_w=pad_w, pad_h=pad_h)


class VolumetricAveragePooling(Layer):
    """Mean over k_t × k_w × k_h windows moved by d_t, d_w, d_h of (C, T, H, W) or (N, C, T, H, W)
    input. count_include_pad: padded zeros count in the divisor; ceil_mode rounds the output size
    up. As in BigDL the window must fit the unpadded input."""

    def __init__(self, k_t, k_w, k_h, d_t, d_w, d_h, pad_t=0, pad_w=0, pad_h=0, count_include_pad=True,
                 ceil_mode=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, k_t=k_t, k_w=k_w, k_h=k_h, d_t=d_t, d_w=d_w, d_h=d_h, pad_t=pad_t,
                         pad_w=pad_w, pad_h=pad_h, count_include_pad=count_include_pad, ceil_mode=ceil_mode)


class LocallyConnected1D(Layer):
    """TemporalConvolution with a filter of its own for each output frame, over
    (n_input_frame, input_frame_size) or (N, n_input_frame, input_frame_size) input.
    get_weights() gives the weight as (n_output_frame, output_frame_size, kernel_w·input_frame_size)
    and the bias as (n_output_frame, output_frame_size), n_output_frame = (n_input_frame −
    kernel_w) // stride_w + 1.

    >>> locallyConnected1D = LocallyConnected1D(10, 6, 12, 5, 5)
    """

    def __init__(self, n_input_frame, input_frame_size, output_frame_size, kernel_w, stride_w=1,
                 propagate_back=True, weight_regularizer=None, bias_regularizer=None, init_weight=None,
                 init_bias=None, init_grad_weight=None, init_grad_bias=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, n_input_frame=n_input_frame, input_frame_size=input_frame_size,
                         output_frame_size=output_frame_size, kernel_w=kernel_w, stride_w=stride_w,
                         propagate_back=propagate_back)
        self._set_regularizers(weight_regularizer, bias_regularizer)
        _init_params(self, init_weight, init_bias, init_grad_weight, init_grad_bias)


class LocallyConnected2D(Layer):
    """SpatialConvolution with a filter of its own for each output position, over input of the
    size given: (n_input_plane, input_height, input_width) or with a leading batch dimension
    (channels last with data_format="NHWC"); pad_w = pad_h = -1 is SAME. get_weights() gives the
    weight as (out_h·out_w, n_output_plane, n_input_plane·kernel_h·kernel_w), its last axis in
    (in, kh, kw) order ((kh, kw, in) in NHWC), and the bias as (out_h·out_w, n_output_plane); as
    in BigDL the bias is added in storage order to each sample's output, so in NCHW its value at
    flat index i lands on output value i of the (n_output_plane, out_h, out_w) sample.

    >>> locallyConnected2D = LocallyConnected2D(6, 2, 4, 12, 5, 5)
    """

    def __init__(self, n_input_plane, input_width, input_height, n_output_plane, kernel_w, kernel_h, stride_w=1,
                 stride_h=1, pad_w=0, pad_h=0, propagate_back=True, wRegularizer=None, bRegularizer=None,
                 init_weight=None, init_bias=None, init_grad_weight=None, init_grad_bias=None, with_bias=True,
                 data_format="NCHW", bigdl_type="float"):
        super().__init__(None, bigdl_type, n_input_plane=n_input_plane, input_width=input_width,
                         input_height=input_height, n_output_plane=n_output_plane, kernel_w=kernel_w,
                         kernel_h=kernel_h, stride_w=stride_w, stride_h=stride_h, pad_w=pad_w, pad_h=pad_h,
                         propagate_back=propagate_back, with_bias=with_bias, data_format=data_format)
        self._set_regularizers(wRegularizer, bRegularizer)
        _init_params(self, init_weight, init_bias, init_grad_weight, init_grad_bias, with_bias)
class Cropping3D(Layer):
    """Trims dim1Crop, dim2Crop and dim3Crop = [before, after] off the three axes of
    (N, C, D1, D2, D3) input ((N, D1, D2, D3, C) with data_format "channel_last")."""

    def __init__(self, dim1Crop, dim2Crop, dim3Crop, data_format="channel_first", bigdl_type="float"):
        super().__init__(None, bigdl_type, dim1Crop=[int(v) for v in dim1Crop], dim2Crop=[int(v) for v in dim2Crop],
                         dim3Crop=[int(v) for v in dim3Crop], data_format=data_format)
def _batch_norm(layer, bigdl_type, n_output, eps, momentum, affine, init_weight, init_bias, init_grad_weight,
                init_grad_bias, **format):
    """Builds either batch normalisation and applies its init_* arguments."""
    Layer.__init__(layer, None, bigdl_type, n_output=n_output, eps=eps, momentum=momentum, affine=affine, **format)
    if not affine and (init_weight is not None or init_bias is not None):
        raise ValueError("%s: init_weight/init_bias given but affine=False (the layer has no weight or bias)"
                         % type(layer).__name__)
    _init_params(layer, init_weight, init_bias, init_grad_weight, init_grad_bias)


class BatchNormalization(Layer):
    """Normalises each of the n_output features of (N, n_output) input: in training with the
    batch's mean and (biased) variance, moving running estimates towards them
    (running = (1 − momentum)·running + momentum·batch, the variance's unbiased); in evaluation
    with the running estimates, when an unbatched (n_output,) input is accepted too. affine adds
    a learnable weight (BigDL draws it from U(0, 1)) and bias (0): get_weights() gives
    [weight, bias], each (n_output,). set_running_mean / set_running_std replace the running
    estimates (set_running_std sets the running variance, as BigDL's does).

    >>> bn = BatchNormalization(2, 1e-5, 0.1, True)
    """

    def __init__(self, n_output, eps=1e-5, momentum=0.1, affine=True, init_weight=None, init_bias=None,
                 init_grad_weight=None, init_grad_bias=None, bigdl_type="float"):
        _batch_norm(self, bigdl_type, n_output, eps, momentum, affine, init_weight, init_bias, init_grad_weight,
                    init_grad_bias)


class SpatialBatchNormalization(Layer):
    """BatchNormalization per channel of (N, C, H, W) input ((N, H, W, C) with data_format
    "NHWC"), over the batch and both spatial dimensions; in evaluation a (C, H, W) sample is
    accepted too.

    >>> bn = SpatialBatchNormalization(16)
    """

    def __init__(self, n_output, eps=1e-5, momentum=0.1, affine=True, init_weight=None, init_bias=None,
                 init_grad_weight=None, init_grad_bias=None, data_format="NCHW", bigdl_type="float"):
        _batch_norm(self, bigdl_type, n_output, eps, momentum, affine, init_weight, init_bias, init_grad_weight,
                    init_grad_bias, data_format=data_format)
