"""Rows of "Layers, part 4" (element-wise layers, simple layers with parameters, the
criteria of spec §3.6) for test_layer_harness.py; _layer_rows.py appends them to its
LAYERS and CRITERIA, so the harness runs every check on them."""
import numpy as np
import torch
import torch.nn.functional as F

from bigdl.nn.layer import (Abs, AddConstant, BinaryThreshold, Clamp, ELU, Exp, GradientReversal, HardShrink,
                            HardSigmoid, HardTanh, LeakyReLU, Log, LogSigmoid, MulConstant, Negative, Power,
                            ReLU6, SoftPlus, SoftShrink, SoftSign, Sqrt, Square, TanhShrink, Threshold)

from _layer_rows import LayerRow, away, table, u


def _ew(name, make, ref, x=None, x1=None):
    """An element-wise row: any shape works, so a 2-D batch, a 1-D sample, and a table refused."""
    x = x or u(4, 6)
    return LayerRow(name, make, x, ref, x1=x1 or (lambda rng: x(rng)[0]),
                    bad=(table(u(3), u(3)), [name.split("-")[0], "table"]))


def _binary(th):
    # A step: 0·x keeps autograd's graph so its gradient (0, as BigDL's) is checked.
    return lambda x: (x > th).to(x.dtype) + 0 * x


def _reversal(lam):
    # The identity forward whose autograd gradient is -lam: x·(1+lam) - lam·x with the first term detached.
    return lambda x: x.detach() * (1 + lam) - lam * x


LAYERS4 = [
    _ew("Threshold", lambda: Threshold(0.2, -0.5), lambda x: F.threshold(x, 0.2, -0.5)),
    _ew("BinaryThreshold", lambda: BinaryThreshold(0.1), _binary(0.1)),
    _ew("ELU", lambda: ELU(0.7), lambda x: F.elu(x, 0.7), x=away(4, 6)),
    _ew("LeakyReLU", lambda: LeakyReLU(0.05), lambda x: F.leaky_relu(x, 0.05), x=away(4, 6)),
    _ew("ReLU6", lambda: ReLU6(), F.relu6, x=u(4, 6, lo=-8, hi=8)),
    _ew("HardTanh", lambda: HardTanh(-0.5, 0.7), lambda x: F.hardtanh(x, -0.5, 0.7)),
    _ew("Clamp", lambda: Clamp(-0.3, 0.4), lambda x: torch.clamp(x, -0.3, 0.4)),
    # beta·x crosses BigDL's (and PyTorch's) threshold of 20 above which the output is x.
    _ew("SoftPlus", lambda: SoftPlus(2.0), lambda x: F.softplus(x, 2.0, 20), x=u(4, 6, lo=-15, hi=15)),
    _ew("SoftSign", lambda: SoftSign(), F.softsign),
    _ew("SoftShrink", lambda: SoftShrink(0.3), lambda x: F.softshrink(x, 0.3)),
    _ew("HardShrink", lambda: HardShrink(0.3), lambda x: F.hardshrink(x, 0.3)),
    # BigDL's HardSigmoid is Keras's, 0.2·x + 0.5 clipped, not PyTorch's x/6 + 1/2.
    _ew("HardSigmoid", lambda: HardSigmoid(), lambda x: torch.clamp(0.2 * x + 0.5, 0, 1), x=u(4, 6, lo=-4, hi=4)),
    _ew("LogSigmoid", lambda: LogSigmoid(), F.logsigmoid, x=u(4, 6, lo=-30, hi=30)),
    _ew("TanhShrink", lambda: TanhShrink(), F.tanhshrink),
    _ew("Abs", lambda: Abs(), torch.abs, x=away(4, 6)),
    _ew("Exp", lambda: Exp(), torch.exp, x=u(4, 6, lo=-3, hi=3)),
    _ew("Log", lambda: Log(), torch.log, x=u(4, 6, lo=0.1, hi=3)),
    _ew("Sqrt", lambda: Sqrt(), torch.sqrt, x=u(4, 6, lo=0.1, hi=3)),
    _ew("Square", lambda: Square(), torch.square),
    _ew("Power", lambda: Power(2.5, 0.5, 1.0), lambda x: torch.pow(1.0 + 0.5 * x, 2.5)),
    _ew("MulConstant", lambda: MulConstant(2.5), lambda x: x * 2.5),
    _ew("AddConstant", lambda: AddConstant(-1.5, True), lambda x: x - 1.5),
    _ew("Negative", lambda: Negative(), torch.neg),
    _ew("GradientReversal", lambda: GradientReversal(0.7), _reversal(0.7)),
]

CRITERIA4 = []
