"""Rows of "Layers, part 4" (element-wise layers, simple layers with parameters, the
criteria of spec §3.6) for test_layer_harness.py; _layer_rows.py appends them to its
LAYERS and CRITERIA, so the harness runs every check on them."""
import numpy as np
import torch
import torch.nn.functional as F

from bigdl.nn.layer import (Abs, AddConstant, BinaryThreshold, Clamp, ELU, Exp, GradientReversal, HardShrink,
                            HardSigmoid, HardTanh, LeakyReLU, Log, LogSigmoid, MulConstant, Negative, Power,
                            ReLU6, SoftPlus, SoftShrink, SoftSign, Sqrt, Square, TanhShrink, Threshold,
                            GaussianDropout, GaussianNoise, Masking, Normalize, PReLU, RReLU, SoftMin,
                            Add, Bilinear, CAdd, CMul, Cosine, Euclidean, Mul, Scale,
                            CosineDistance, DotProduct, MM, MV, PairwiseDistance, Highway, Maxout, SReLU)

from bigdl.nn.criterion import (AbsCriterion, BCECriterion, ClassSimplexCriterion, CosineProximityCriterion,
                                DiceCoefficientCriterion, DotProductCriterion, MultiLabelMarginCriterion,
                                MultiMarginCriterion, PGCriterion, DistKLDivCriterion, L1HingeEmbeddingCriterion,
                                MSECriterion, SoftmaxWithCriterion, TransformerCriterion, HingeEmbeddingCriterion, KullbackLeiblerDivergenceCriterion,
                                L1Cost, MarginCriterion, MeanAbsolutePercentageCriterion,
                                MeanSquaredLogarithmicCriterion, MultiLabelSoftMarginCriterion, PoissonCriterion,
                                SmoothL1Criterion, SoftMarginCriterion)

from _layer_rows import CriterionRow, LayerRow, away, seq, table, u


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


def _prelu(x, w):
    # PyTorch's nn.PReLU reads channels from dim 1 always; BigDL from dim 0 of a 1-D or 3-D sample.
    c = w.shape[0]
    shape = [1] * x.dim()
    shape[0 if x.dim() in (1, 3) else 1] = c
    return torch.where(x > 0, x, w.reshape(shape) * x)


def _masked(value):
    def f(rng):
        x = rng.uniform(-1, 1, (3, 5, 4)).astype(np.float32)
        x[0, 1] = value
        x[2, 4] = value
        x[1, 2, 0] = value  # one feature equal is not a masked step
        return x
    return f


LAYERS4 += [
    LayerRow("PReLU", lambda: PReLU(), away(4, 6), lambda x, w: F.prelu(x, w), x1=away(6), params=[(1,)],
             bad=(table(u(3)), ["PReLU", "table"])),
    LayerRow("PReLU-channels", lambda: PReLU(3), away(2, 3, 2, 2), _prelu, x1=away(3, 2, 2), params=[(3,)],
             bad=(u(2, 4), ["PReLU", "3 channels", "(2, 4)"])),
    LayerRow("PReLU-channels-2d", lambda: PReLU(4), away(5, 4), _prelu, x1=away(4), params=[(4,)]),
    # Evaluation mode is deterministic: the slope is (lower + upper) / 2.
    LayerRow("RReLU-eval", lambda: RReLU(0.1, 0.3).evaluate(), away(4, 6), lambda x: F.leaky_relu(x, 0.2),
             x1=away(6)),
    LayerRow("GaussianDropout-eval", lambda: GaussianDropout(0.4).evaluate(), u(4, 6), lambda x: x, x1=u(6)),
    LayerRow("GaussianNoise-eval", lambda: GaussianNoise(0.5).evaluate(), u(4, 6), lambda x: x, x1=u(6)),
    LayerRow("SoftMin", lambda: SoftMin(), u(4, 6), lambda x: F.softmin(x, -1), x1=u(6),
             bad=(u(2, 3, 4), ["SoftMin", "(2, 3, 4)"])),
    LayerRow("Normalize", lambda: Normalize(2.0), u(4, 6), lambda x: x / (x.abs().pow(2).sum(-1, keepdim=True) + 1e-10).sqrt(),
             x1=u(6), bad=(u(2, 3, 4), ["Normalize", "(2, 3, 4)"])),
    LayerRow("Normalize-p3-4d", lambda: Normalize(3.0, 1e-6), away(2, 3, 2, 2),
             lambda x: x / (x.abs().pow(3).sum(1, keepdim=True) + 1e-6).pow(1 / 3)),
    LayerRow("Normalize-max", lambda: Normalize(float("inf")), away(4, 6),
             lambda x: x / (x.abs().max(-1, keepdim=True).values + 1e-10)),
    # No PyTorch layer masks time steps; BigDL's rule: a step whose features all equal mask_value is zeroed.
    LayerRow("Masking", lambda: Masking(0.5), _masked(0.5),
             lambda x: x * (x != 0.5).any(-1, keepdim=True).to(x.dtype), bad=(u(4), ["Masking", "(4,)"])),
]


def _same_count(f):
    """BigDL pairs an input with as many elements as the parameters element by element,
    keeping the input's shape."""
    return lambda x, *p: f(x, *p).reshape(x.shape)


def _cosine(x, W):
    return F.normalize(x, dim=-1, eps=1e-30) @ F.normalize(W, dim=-1, eps=1e-30).t()


def _euclidean(x, W):
    # BigDL keeps the centres as the columns of an (input_size, output_size) weight.
    return ((x.unsqueeze(-1) - W) ** 2).sum(-2).sqrt()


LAYERS4 += [
    # 16 weights, so the fan-in check (one weight beyond half the bound) cannot miss by chance.
    LayerRow("CMul", lambda: CMul([1, 16]), u(4, 16), _same_count(lambda x, w: x * w), x1=u(16), params=[(1, 16)],
             fan=(16, 1), init_args=("wRegularizer",), bad=(u(4, 5), ["CMul", "(1, 16)", "(4, 5)"])),
    LayerRow("CMul-channels", lambda: CMul([3, 1, 1]), u(2, 3, 2, 2), lambda x, w: x * w, x1=u(3, 2, 2),
             params=[(3, 1, 1)]),
    LayerRow("CAdd", lambda: CAdd([6]), u(4, 6), lambda x, b: x + b, x1=u(6), params=[(6,)], init_args=("bRegularizer",),
             bad=(u(4, 5), ["CAdd", "(6,)", "(4, 5)"])),
    LayerRow("Scale", lambda: Scale([1, 16]), u(4, 16), _same_count(lambda x, w, b: x * w + b), x1=u(16),
             params=[(1, 16), (1, 16)], fan=(16, 1)),
    LayerRow("Add", lambda: Add(6), u(4, 6), lambda x, b: x + b, x1=u(6), params=[(6,)],
             bad=(u(4, 5), ["Add", "(4, 5)"])),
    LayerRow("Mul", lambda: Mul(), u(4, 6), lambda x, w: x * w, x1=u(6), params=[(1,)]),
    LayerRow("Bilinear", lambda: Bilinear(3, 4, 2), table(u(5, 3), u(5, 4)), lambda x, W, b: F.bilinear(x[0], x[1], W, b),
             params=[(2, 3, 4), (2,)], fan=(3, 2), init_fans=(24, 24), init_args=("wRegularizer", "bRegularizer"),
             bad=(table(u(5, 3), u(5, 3)), ["Bilinear", "(5, 3)"])),
    LayerRow("Bilinear-nobias", lambda: Bilinear(3, 4, 2, bias_res=False), table(u(5, 3), u(5, 4)),
             lambda x, W: F.bilinear(x[0], x[1], W), params=[(2, 3, 4)]),
    # BigDL's default bound is 1/sqrt(the weight's first dimension): output_size for Cosine.
    LayerRow("Cosine", lambda: Cosine(5, 3), u(4, 5), _cosine, x1=u(5), params=[(3, 5)], fan=(3, 5),
             bad=(u(4, 6), ["Cosine", "(4, 6)"])),
    LayerRow("Euclidean", lambda: Euclidean(5, 3), u(4, 5), _euclidean, x1=u(5), params=[(5, 3)], fan=(5, 3),
             bad=(u(4, 6), ["Euclidean", "(4, 6)"])),
]


def _rows_out(f):
    """One value per row; a 1-D pair gives shape (1,), as BigDL's."""
    return lambda x: f(x[0], x[1]).reshape(-1)


def _pdist(p):
    return _rows_out(lambda a, b: (a - b).abs().pow(p).sum(-1).pow(1.0 / p))


def _mt(t, on):
    return t.transpose(-1, -2) if on else t


LAYERS4 += [
    LayerRow("MM", lambda: MM(), table(u(3, 4), u(4, 2)), lambda x: x[0] @ x[1],
             bad=(table(u(3, 4), u(3, 2)), ["MM", "(3, 4)", "(3, 2)"])),
    LayerRow("MM-batch-transposed", lambda: MM(True, True), table(u(5, 4, 3), u(5, 2, 4)),
             lambda x: _mt(x[0], True) @ _mt(x[1], True)),
    LayerRow("MM-transA", lambda: MM(trans_a=True), table(u(4, 3), u(4, 2)), lambda x: x[0].t() @ x[1]),
    LayerRow("MV", lambda: MV(), table(u(3, 4), u(4)), lambda x: x[0] @ x[1],
             bad=(table(u(3, 4), u(3)), ["MV", "(3, 4)", "(3,)"])),
    LayerRow("MV-batch-trans", lambda: MV(True), table(u(5, 4, 3), u(5, 4)),
             lambda x: (x[0].transpose(1, 2) @ x[1].unsqueeze(-1)).squeeze(-1)),
    LayerRow("DotProduct", lambda: DotProduct(), table(u(5, 4), u(5, 4)), _rows_out(lambda a, b: (a * b).sum(-1)),
             x1=table(u(4), u(4)), bad=(table(u(5, 4), u(5, 3)), ["DotProduct", "(5, 4)", "(5, 3)"])),
    LayerRow("CosineDistance", lambda: CosineDistance(), table(u(5, 4), u(5, 4)),
             _rows_out(lambda a, b: F.cosine_similarity(a, b, -1, eps=1e-30)), x1=table(u(4), u(4)),
             bad=(u(5, 4), ["CosineDistance", "table"])),
    LayerRow("PairwiseDistance", lambda: PairwiseDistance(), table(u(5, 4), u(5, 4)), _pdist(2),
             x1=table(u(4), u(4))),
    LayerRow("PairwiseDistance-L1", lambda: PairwiseDistance(1), table(u(5, 4), u(5, 4)), _pdist(1)),
    LayerRow("PairwiseDistance-L3", lambda: PairwiseDistance(3), table(u(5, 4), u(5, 4)), _pdist(3)),
]


def _maxout(k, out):
    # BigDL groups Linear's outputs as View(k, out): output j is the max over rows k·out + j.
    def f(x, W, b):
        z = F.linear(x, W, b)
        return z.reshape(*z.shape[:-1], k, out).max(-2).values
    return f


def _highway(act):
    def f(x, W1, b1, W2, b2):
        g = torch.sigmoid(F.linear(x, W1, b1))
        return g * act(F.linear(x, W2, b2)) + (1 - g) * x
    return f


LAYERS4 += [
    LayerRow("Maxout", lambda: Maxout(4, 3, 2), u(5, 4), _maxout(2, 3), x1=u(4), params=[(6, 4), (6,)], fan=(4, 6),
             init_args=("w_regularizer", "b_regularizer", "init_weight", "init_bias"),
             bad=(u(5, 3), ["Maxout", "(5, 3)"])),
    LayerRow("Highway", lambda: Highway(4), u(5, 4), _highway(lambda v: v), x1=u(4),
             params=[(4, 4), (4,), (4, 4), (4,)], fan=(4, 4), init_args=("wRegularizer", "bRegularizer"),
             bad=(u(5, 3), ["Highway", "(5, 3)"])),
    LayerRow("Highway-tanh", lambda: Highway(4, activation="tanh"), u(5, 4), _highway(torch.tanh),
             params=[(4, 4), (4,), (4, 4), (4,)]),
    LayerRow("Highway-ELU-nobias", lambda: Highway(3, False, ELU(0.5)), u(5, 3),
             lambda x, W1, W2: _highway(lambda v: F.elu(v, 0.5))(x, W1, None, W2, None), params=[(3, 3), (3, 3)]),
]


def _srelu(x, tl, al, tr, ar):
    return torch.where(x >= tr, tr + ar * (x - tr), torch.where(x <= tl, tl + al * (x - tl), x))


def _srelu_made(shape, axes=None):
    """An SReLU whose thresholds and slopes are away from BigDL's initial 0 and 1, so every piece is exercised."""
    def make():
        layer = SReLU(shape, axes)
        rs = np.random.RandomState(3)
        p = [w.shape for w in layer.get_weights()]
        layer.set_weights([rs.uniform(-0.6, -0.1, p[0]), rs.uniform(0.1, 0.5, p[1]), rs.uniform(0.1, 0.6, p[2]),
                           rs.uniform(1.5, 2.5, p[3])])
        return layer
    return make


LAYERS4 += [
    LayerRow("SReLU", _srelu_made([4]), u(5, 4), _srelu, params=[(4,)] * 4, bad=(u(5, 3), ["SReLU", "(5, 3)"])),
    LayerRow("SReLU-shared", _srelu_made([2, 3], [2]), u(5, 2, 3), _srelu, params=[(2, 1)] * 4),
]


def _crit(name, make, data, ref, avg=True, bad=None):
    """Rows over batches of 1 and of 17, with and without size_average when the criterion has
    it: make(avg) builds it, data(rng, n) gives (input, target), ref(x, t, avg) is the loss."""
    rows = []
    for n in (1, 17):
        for a in ((True, False) if avg else (None,)):
            tag = "" if a is None else ("-avg" if a else "-sum")
            rows.append(CriterionRow("%s-n%d%s" % (name, n, tag), lambda a=a: make(a), lambda rng, n=n: data(rng, n),
                                     lambda x, t, a=a: ref(x, t, a), bad=bad if n == 17 and a is not False else None))
    return rows


def _red(a):
    return "sum" if a is False else "mean"


def _agg(v, a):
    return v.sum() if a is False else v.mean()


def _normal(*cols, scale=1.0):
    return lambda rng, n: (rng.randn(n, *cols) * scale).astype(np.float32)


def _pair(xf, tf):
    return lambda rng, n: (xf(rng, n), tf(rng, n))


def _signs(*cols):
    return lambda rng, n: np.where(rng.uniform(size=(n,) + cols) < 0.5, -1.0, 1.0).astype(np.float32)


def _uniform(lo, hi, *cols):
    return lambda rng, n: rng.uniform(lo, hi, (n,) + cols).astype(np.float32)


def _mismatch(name, cols=5):
    return (lambda rng: (np.zeros((17, cols), np.float32), np.zeros((17, cols - 1), np.float32)),
            [name, "(17, %d)" % cols, "(17, %d)" % (cols - 1)])


def _zero_targets(name):
    return (lambda rng: (np.zeros((17, 5), np.float32), np.zeros((17, 5), np.float32)), [name, "1 or -1"])


def _log_probs(rng, n):
    return np.log(rng.dirichlet(np.ones(5), n)).astype(np.float32)


def _sparse_probs(rng, n):
    p = rng.dirichlet(np.ones(5), n)
    p[:, 0] = 0  # a target of probability 0 adds nothing
    return (p / p.sum(1, keepdims=True)).astype(np.float32)


_MLSM_W = np.array([0.5, 1.0, 2.0, 1.5, 0.3], np.float32)
_EPS = 1e-7

CRITERIA4 = []
CRITERIA4 += _crit("SmoothL1Criterion", lambda a: SmoothL1Criterion(a), _pair(_normal(5, scale=1.5), _normal(5)),
                   lambda x, t, a: F.smooth_l1_loss(x, t, reduction=_red(a)), bad=_mismatch("SmoothL1Criterion"))
CRITERIA4 += _crit("MarginCriterion", lambda a: MarginCriterion(0.7, a), _pair(_normal(5), _signs(5)),
                   lambda x, t, a: _agg(F.relu(0.7 - x * t), a), bad=_zero_targets("MarginCriterion"))
CRITERIA4 += _crit("MarginCriterion-squared", lambda a: MarginCriterion(0.7, a, squared=True),
                   _pair(_normal(5), _signs(5)), lambda x, t, a: _agg(F.relu(0.7 - x * t) ** 2, a))
CRITERIA4 += _crit("SoftMarginCriterion", lambda a: SoftMarginCriterion(a), _pair(_normal(5), _signs(5)),
                   lambda x, t, a: F.soft_margin_loss(x, t, reduction=_red(a)), bad=_zero_targets("SoftMarginCriterion"))
CRITERIA4 += _crit("HingeEmbeddingCriterion", lambda a: HingeEmbeddingCriterion(0.6, a),
                   _pair(_uniform(-0.5, 1.5, 5), _signs(5)),
                   lambda x, t, a: F.hinge_embedding_loss(x, t, margin=0.6, reduction=_red(a)),
                   bad=_zero_targets("HingeEmbeddingCriterion"))
# BigDL's size_average divides by the element count (PyTorch's deprecated "mean" of kl_div).
CRITERIA4 += _crit("DistKLDivCriterion", lambda a: DistKLDivCriterion(a), _pair(_log_probs, _sparse_probs),
                   lambda x, t, a: F.kl_div(x, t, reduction="sum") / (x.numel() if a else 1), bad=_mismatch("DistKLDivCriterion"))
# BigDL averages over every element (PyTorch's multilabel_soft_margin_loss sums a record's mean
# over classes instead): binary_cross_entropy_with_logits reduces as BigDL does.
CRITERIA4 += _crit("MultiLabelSoftMarginCriterion", lambda a: MultiLabelSoftMarginCriterion(_MLSM_W, a),
                   _pair(_normal(5, scale=3), lambda rng, n: rng.randint(0, 2, (n, 5)).astype(np.float32)),
                   lambda x, t, a: F.binary_cross_entropy_with_logits(x, t, torch.tensor(_MLSM_W, dtype=x.dtype),
                                                                      reduction=_red(a)),
                   bad=(lambda rng: (np.zeros((17, 4), np.float32), np.zeros((17, 4), np.float32)),
                        ["MultiLabelSoftMarginCriterion", "5 weights", "(17, 4)"]))
CRITERIA4 += _crit("L1Cost", lambda a: L1Cost(), _pair(_normal(5), _normal(5)), lambda x, t, a: x.abs().sum(), avg=False)
CRITERIA4 += _crit("MeanAbsolutePercentageCriterion", lambda a: MeanAbsolutePercentageCriterion(),
                   _pair(_normal(5), lambda rng, n: away(n, 5)(rng)),
                   lambda x, t, a: 100 * ((x - t).abs() / t.abs().clamp(min=_EPS)).mean(), avg=False,
                   bad=_mismatch("MeanAbsolutePercentageCriterion"))
CRITERIA4 += _crit("MeanSquaredLogarithmicCriterion", lambda a: MeanSquaredLogarithmicCriterion(),
                   _pair(_uniform(-0.5, 2, 5), _uniform(0, 2, 5)),
                   lambda x, t, a: ((t.clamp(min=_EPS) + 1).log() - (x.clamp(min=_EPS) + 1).log()).pow(2).mean(),
                   avg=False, bad=_mismatch("MeanSquaredLogarithmicCriterion"))
CRITERIA4 += _crit("PoissonCriterion", lambda a: PoissonCriterion(), _pair(_uniform(0.1, 2, 5), _uniform(0, 3, 5)),
                   lambda x, t, a: (x - t * (x + _EPS).log()).mean(), avg=False, bad=_mismatch("PoissonCriterion"))
CRITERIA4 += _crit("KullbackLeiblerDivergenceCriterion", lambda a: KullbackLeiblerDivergenceCriterion(),
                   _pair(_uniform(0.01, 1.2, 5), _sparse_probs),
                   lambda x, t, a: (t.clamp(_EPS, 1) * (t.clamp(_EPS, 1) / x.clamp(_EPS, 1)).log()).sum() / x.shape[0],
                   avg=False, bad=_mismatch("KullbackLeiblerDivergenceCriterion"))

# The criteria part 1 added, over both batch sizes and both averagings.
CRITERIA4 += _crit("BCECriterion-weighted", lambda a: BCECriterion(_MLSM_W, a),
                   _pair(_uniform(0.05, 0.95, 5), lambda rng, n: rng.randint(0, 2, (n, 5)).astype(np.float32)),
                   lambda x, t, a: F.binary_cross_entropy(x, t, torch.tensor(_MLSM_W, dtype=x.dtype), reduction=_red(a)),
                   bad=_mismatch("BCECriterion"))
CRITERIA4 += _crit("AbsCriterion", lambda a: AbsCriterion(a), _pair(_normal(5), _normal(5)),
                   lambda x, t, a: F.l1_loss(x, t, reduction=_red(a)), bad=_mismatch("AbsCriterion"))


def _labels(c):
    return lambda rng, n: rng.randint(1, c + 1, n).astype(np.float32)


def _label_sets(rng, n, c=5):
    """Each row: a random set of 1-based classes, then zeros (BigDL's end marker)."""
    t = np.zeros((n, c), np.float32)
    for i in range(n):
        k = rng.randint(1, c)
        t[i, :k] = rng.permutation(c)[:k] + 1
    return t


def _bad_label(name, label, shape=(17, 5)):
    t = np.ones(shape[:1], np.float32)
    t[3] = label
    return (lambda rng: (np.zeros(shape, np.float32), t), [name, "1-based", "[1, %d]" % shape[1]])


def regular_simplex(n):
    """BigDL's (Torch's regsplex) class vertices: n unit vectors in n-1 dimensions, centred at
    the origin, padded with a zero column; row k's k-th coordinate makes its norm 1, and the
    rows below share the value that centres the set."""
    d = n - 1
    a = np.zeros((n, d))
    for k in range(d):
        a[k, k] = 1.0 if k == 0 else np.sqrt(1 - np.sum(a[k, :k] ** 2))
        a[k + 1:, k] = (a[k, k] ** 2 - 1 - 1.0 / d) / a[k, k]
    return np.hstack([a, np.zeros((n, 1))])


_MM_W = np.array([1.0, 0.5, 2.0, 1.5, 0.7], np.float32)
_SIMPLEX = regular_simplex(4)


def _cosine_proximity(x, t):
    def unit(v):
        return v / (v * v).sum(-1, keepdim=True).clamp(min=1e-12).sqrt()
    return -(unit(x) * unit(t)).sum() / x.numel()


def _dice(x, t, a):
    d = 1 - (2 * (x * t).sum(-1) + 1.0) / (x.sum(-1) + t.sum(-1) + 1.0)
    return d.mean() if a else d.sum()


CRITERIA4 += _crit("MultiMarginCriterion", lambda a: MultiMarginCriterion(1, _MM_W, 0.8, a), _pair(_normal(5), _labels(5)),
                   lambda x, t, a: F.multi_margin_loss(x, t.long() - 1, p=1, margin=0.8,
                                                       weight=torch.tensor(_MM_W, dtype=x.dtype), reduction=_red(a)),
                   bad=_bad_label("MultiMarginCriterion", 0))
CRITERIA4 += _crit("MultiMarginCriterion-p2", lambda a: MultiMarginCriterion(2, size_average=a),
                   _pair(_normal(5), _labels(5)),
                   lambda x, t, a: F.multi_margin_loss(x, t.long() - 1, p=2, reduction=_red(a)),
                   bad=_bad_label("MultiMarginCriterion", 6))
# PyTorch's targets are 0-based and end at -1; BigDL's are 1-based and end at 0.
CRITERIA4 += _crit("MultiLabelMarginCriterion", lambda a: MultiLabelMarginCriterion(a), _pair(_normal(5), _label_sets),
                   lambda x, t, a: F.multilabel_margin_loss(x, t.long() - 1, reduction=_red(a)),
                   bad=(lambda rng: (np.zeros((17, 5), np.float32), np.full((17, 5), 6, np.float32)),
                        ["MultiLabelMarginCriterion", "1-based", "[1, 5]"]))
CRITERIA4 += _crit("ClassSimplexCriterion", lambda a: ClassSimplexCriterion(4), _pair(_normal(4), _labels(4)),
                   lambda x, t, a: ((x - torch.tensor(_SIMPLEX)[t.long() - 1]) ** 2).mean(), avg=False,
                   bad=_bad_label("ClassSimplexCriterion", 5, (17, 4)))
# BigDL divides by the element count (Keras by the records).
CRITERIA4 += _crit("CosineProximityCriterion", lambda a: CosineProximityCriterion(), _pair(_normal(5), _normal(5)),
                   lambda x, t, a: _cosine_proximity(x, t), avg=False, bad=_mismatch("CosineProximityCriterion"))
CRITERIA4 += _crit("DiceCoefficientCriterion", lambda a: DiceCoefficientCriterion(a, 1.0),
                   _pair(_uniform(0, 1, 5), lambda rng, n: rng.randint(0, 2, (n, 5)).astype(np.float32)), _dice,
                   bad=_mismatch("DiceCoefficientCriterion"))
CRITERIA4 += _crit("DotProductCriterion", lambda a: DotProductCriterion(a), _pair(_normal(5), _normal(5)),
                   lambda x, t, a: (x * t).sum() / (x.shape[0] if a else 1), bad=_mismatch("DotProductCriterion"))
CRITERIA4 += _crit("PGCriterion", lambda a: PGCriterion(a), _pair(_uniform(0.05, 1, 5), _normal(5)),
                   lambda x, t, a: (-x.log() * t).sum() / (x.shape[0] if a else 1), bad=_mismatch("PGCriterion"))


def _positions(rng, n, ignore=None):
    t = rng.randint(1, 5, (n, 1, 2, 3)).astype(np.float32)
    return t


def _softmax_with(mode, ignore=None):
    def ref(x, t, a):
        tt = (t.reshape(x.shape[0], *x.shape[2:]).long() - 1)
        ii = -100 if ignore is None else ignore - 1
        loss = F.cross_entropy(x, tt, ignore_index=ii, reduction="sum")
        valid = int((tt != ii).sum())
        n = {"FULL": tt.numel(), "VALID": valid, "BATCH_SIZE": x.shape[0], "NONE": 1}[mode]
        return loss / max(n, 1)
    return ref


for _mode, _ignore in (("VALID", 2), ("FULL", 3), ("BATCH_SIZE", None), ("NONE", None)):
    CRITERIA4 += _crit("SoftmaxWithCriterion-%s" % _mode,
                       lambda a, m=_mode, i=_ignore: SoftmaxWithCriterion(i, m),
                       _pair(lambda rng, n: rng.randn(n, 4, 2, 3).astype(np.float32), _positions),
                       _softmax_with(_mode, _ignore), avg=False,
                       bad=(lambda rng: (np.zeros((17, 4, 2, 3), np.float32), np.full((17, 1, 2, 3), 5, np.float32)),
                            ["SoftmaxWithCriterion", "1-based", "[1, 4]"]))


def _l1_hinge(x, t, a):
    d = (x[0] - x[1]).abs().sum(-1)
    return torch.where(t > 0, d, F.relu(2.0 - d)).sum()


CRITERIA4 += _crit("L1HingeEmbeddingCriterion", lambda a: L1HingeEmbeddingCriterion(2.0),
                   lambda rng, n: ([rng.randn(n, 4).astype(np.float32), rng.randn(n, 4).astype(np.float32)],
                                   _signs()(rng, n)),
                   _l1_hinge, avg=False,
                   bad=(lambda rng: ([np.zeros((17, 4), np.float32), np.zeros((17, 3), np.float32)], np.ones(17, np.float32)),
                        ["L1HingeEmbeddingCriterion", "(17, 4)", "(17, 3)"]))
# PGCriterion is BigDL's TransformerCriterion(DotProductCriterion, Log then MulConstant(-1)).
CRITERIA4 += _crit("TransformerCriterion-PG", lambda a: TransformerCriterion(DotProductCriterion(a), seq(Log(), MulConstant(-1.0))),
                   _pair(_uniform(0.05, 1, 5), _normal(5)),
                   lambda x, t, a: (-x.log() * t).sum() / (x.shape[0] if a else 1))
CRITERIA4 += _crit("TransformerCriterion-both", lambda a: TransformerCriterion(MSECriterion(), Exp(), SoftSign()),
                   _pair(_normal(5), _normal(5)), lambda x, t, a: F.mse_loss(x.exp(), F.softsign(t)), avg=False,
                   bad=_mismatch("MSECriterion"))
