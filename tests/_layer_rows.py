"""The rows of the layer and criterion harness (test_layer_harness.py): one per
configuration of a BigDL name. Adding a layer adds rows here; the harness runs
every check on every row.

A LayerRow gives:
  make      builds the bigdl layer
  x         rng -> a batched input (an ndarray, or a list for a table)
  ref       PyTorch's computation of the output from torch inputs and the layer's
            weights (in get_weights() order); backward is checked with autograd.
            None: `np_ref`, a numpy forward, and finite differences for backward.
  x1        rng -> an unbatched input (None: the layer has no unbatched form)
  params    the parameter shapes (get_weights() order)
  fan       (fan_in, fan_out) BigDL uses for the weight (None: no weight); the default
            initialisation's bound is 1/sqrt(fan_in)
  init_fans (fan_in, fan_out) the init methods (Xavier, ...) use, when they differ from fan
            (a weight in VariableFormat.Default: both are its element count)
  init_args the constructor's regularizer / init arguments BigDL has
  bad       (rng -> an input the layer must refuse, words the error must contain)
"""
import numpy as np
import torch
import torch.nn.functional as F

from bigdl.nn.criterion import (AbsCriterion, BCECriterion, ClassNLLCriterion, CosineEmbeddingCriterion,
                                CrossEntropyCriterion, GaussianCriterion, KLDCriterion, MarginRankingCriterion,
                                MSECriterion, MultiCriterion, ParallelCriterion, SmoothL1CriterionWithWeights)
from bigdl.nn.layer import (Bottle, Input, MapTable, Model, CAddTable, CAveTable, CDivTable, CMaxTable, CMinTable, CMulTable, Concat,
                            ConcatTable, Contiguous, CSubTable, Dropout, Echo, FlattenTable, Identity,
                            InferReshape, JoinTable, Linear, LogSoftMax, Max, Mean, Min, Narrow, NarrowTable,
                            Pack, Padding, ParallelTable, ReLU, Replicate, Reshape, Reverse, Select, SelectTable,
                            Sequential, Sigmoid, SoftMax, SplitTable, Squeeze, Sum, Tanh, Tile, Transpose,
                            Unsqueeze, View)


class LayerRow:
    def __init__(self, name, make, x, ref=None, np_ref=None, x1=None, params=(), fan=None, init_args=(),
                 bad=None, init_fans=None):
        self.name, self.make, self.x, self.ref, self.np_ref, self.x1 = name, make, x, ref, np_ref, x1
        self.params, self.fan, self.init_args, self.bad = list(params), fan, tuple(init_args), bad
        self.init_fans = init_fans or fan

    def __repr__(self):
        return self.name


class CriterionRow:
    """make builds the criterion; data(rng) gives (input, target); ref(input, target) is
    PyTorch's loss from torch tensors (the input requires grad)."""

    def __init__(self, name, make, data, ref, bad=None):
        self.name, self.make, self.data, self.ref, self.bad = name, make, data, ref, bad

    def __repr__(self):
        return self.name


def u(*shape, lo=-1.0, hi=1.0):
    return lambda rng: rng.uniform(lo, hi, size=shape).astype(np.float32)


def away(*shape):
    """Values in ±[0.1, 1]: away from kinks and from zero (denominators)."""
    def f(rng):
        mag = rng.uniform(0.1, 1.0, size=shape)
        return (mag * np.where(rng.uniform(size=shape) < 0.5, -1, 1)).astype(np.float32)
    return f


def table(*makers):
    """A table input: each element from its maker (a maker may itself be a table)."""
    return lambda rng: [m(rng) for m in makers]


def seq(*layers):
    s = Sequential()
    for layer in layers:
        s.add(layer)
    return s


def container(cls, *children, **kw):
    c = cls(**kw)
    for ch in children:
        c.add(ch)
    return c


def two_input_graph():
    """o1 = tanh(L1(a) + L2(b)), o2 = sigmoid(L1(a)): weights in order W1, b1, W2, b2."""
    a, b = Input(), Input()
    h1, h2 = Linear(3, 4)(a), Linear(2, 4)(b)
    return Model([a, b], [Tanh()(CAddTable()([h1, h2])), Sigmoid()(h1)])


def _max(dim):
    return lambda x: x.max(dim, keepdim=x.dim() == 1).values


def _min(dim):
    return lambda x: x.min(dim, keepdim=x.dim() == 1).values


LAYERS = [
    # T1 layers
    LayerRow("Linear", lambda: Linear(5, 3), u(4, 5), lambda x, W, b: F.linear(x, W, b), x1=u(5),
             params=[(3, 5), (3,)], fan=(5, 3), init_args=("wRegularizer", "bRegularizer", "init_weight", "init_bias"),
             bad=(u(4, 7), ["Linear", "(4, 7)"])),
    LayerRow("Linear-nobias", lambda: Linear(5, 3, with_bias=False), u(4, 5), lambda x, W: F.linear(x, W), x1=u(5),
             params=[(3, 5)], fan=(5, 3), init_args=("wRegularizer", "bRegularizer")),
    LayerRow("ReLU", lambda: ReLU(), away(4, 6), torch.relu, x1=away(6)),
    LayerRow("Tanh", lambda: Tanh(), u(4, 6), torch.tanh, x1=u(6)),
    LayerRow("Sigmoid", lambda: Sigmoid(), u(4, 6), torch.sigmoid, x1=u(6)),
    LayerRow("SoftMax", lambda: SoftMax(), u(4, 6), lambda x: torch.softmax(x, -1), x1=u(6),
             bad=(u(2, 3, 4), ["SoftMax", "(2, 3, 4)"])),
    LayerRow("LogSoftMax", lambda: LogSoftMax(), u(4, 6), lambda x: torch.log_softmax(x, -1), x1=u(6)),
    LayerRow("Dropout-eval", lambda: Dropout(0.3).evaluate(), u(4, 6), lambda x: x, x1=u(6)),
    LayerRow("Identity", lambda: Identity(), u(4, 6), lambda x: x, x1=u(6)),
    LayerRow("Reshape", lambda: Reshape([3, 2]), u(4, 6), lambda x: x.reshape(3, 2) if x.dim() == 1 else x.reshape(-1, 3, 2), x1=u(6),
             bad=(u(4, 5), ["Reshape", "(4, 5)"])),
    LayerRow("View", lambda: View([-1], num_input_dims=2), u(4, 2, 3), lambda x: x.reshape(x.shape[0], -1)),

    # Containers
    LayerRow("Concat", lambda: container(Concat, Linear(4, 3), Linear(4, 2), dimension=2), u(5, 4),
             lambda x, W1, b1, W2, b2: torch.cat([F.linear(x, W1, b1), F.linear(x, W2, b2)], 1),
             params=[(3, 4), (3,), (2, 4), (2,)]),
    LayerRow("ConcatTable", lambda: container(ConcatTable, Linear(4, 3), Tanh()), u(5, 4),
             lambda x, W, b: [F.linear(x, W, b), torch.tanh(x)], x1=u(4), params=[(3, 4), (3,)]),
    LayerRow("ParallelTable", lambda: container(ParallelTable, Linear(4, 3), Sigmoid()), table(u(5, 4), u(5, 2)),
             lambda x, W, b: [F.linear(x[0], W, b), torch.sigmoid(x[1])], x1=table(u(4), u(2)),
             params=[(3, 4), (3,)], bad=(table(u(5, 4)), ["ParallelTable", "2 elements", "(5, 4)"])),
    LayerRow("Sequential-tables", lambda: seq(ConcatTable().add(Linear(4, 3)).add(Linear(4, 3)), CAddTable()),
             u(5, 4), lambda x, W1, b1, W2, b2: F.linear(x, W1, b1) + F.linear(x, W2, b2), x1=u(4),
             params=[(3, 4), (3,), (3, 4), (3,)]),

    LayerRow("Model-2in-2out", two_input_graph, table(u(5, 3), u(5, 2)),
             lambda x, W1, b1, W2, b2: [torch.tanh(F.linear(x[0], W1, b1) + F.linear(x[1], W2, b2)),
                                        torch.sigmoid(F.linear(x[0], W1, b1))],
             x1=table(u(3), u(2)), params=[(4, 3), (4,), (4, 2), (4,)],
             bad=(table(u(5, 3)), ["Model", "table of 2 inputs", "(5, 3)"])),

    LayerRow("MapTable", lambda: MapTable(Linear(3, 2)), table(u(4, 3), u(4, 3), u(4, 3)),
             lambda x, W, b: [F.linear(e, W, b) for e in x], x1=table(u(3), u(3)), params=[(2, 3), (2,)],
             bad=(u(4, 3), ["MapTable", "table", "(4, 3)"])),
    LayerRow("MapTable-Sequential", lambda: MapTable(seq(Linear(3, 2), Tanh())), table(u(4, 3), u(4, 3)),
             lambda x, W, b: [torch.tanh(F.linear(e, W, b)) for e in x], params=[(2, 3), (2,)]),
    LayerRow("Bottle", lambda: Bottle(Linear(3, 2), 2, 2), u(2, 5, 3), lambda x, W, b: F.linear(x, W, b),
             x1=u(5, 3), params=[(2, 3), (2,)], bad=(u(2, 5, 4), ["Linear", "(10, 4)"])),

    # Table layers
    LayerRow("JoinTable", lambda: JoinTable(1, 1), table(u(4, 3), u(4, 5)), lambda x: torch.cat(x, -1),
             x1=table(u(3), u(5)), bad=(table(u(4, 3), u(2, 5)), ["JoinTable", "(4, 3)", "(2, 5)"])),
    LayerRow("JoinTable-neg", lambda: JoinTable(-1, 0), table(u(2, 3, 2), u(2, 3, 4)), lambda x: torch.cat(x, -1)),
    LayerRow("SplitTable", lambda: SplitTable(1, 2), u(4, 3, 2), lambda x: list(torch.unbind(x, x.dim() - 2)),
             x1=u(3, 2), bad=(table(u(3)), ["SplitTable", "(3,)"])),
    LayerRow("SelectTable", lambda: SelectTable(2), table(u(3, 2), u(3, 4), u(3)), lambda x: x[1],
             bad=(table(u(3)), ["SelectTable", "index 2", "(3,)"])),
    LayerRow("SelectTable-neg", lambda: SelectTable(-1), table(u(3, 2), table(u(2), u(3))), lambda x: x[-1]),
    LayerRow("NarrowTable", lambda: NarrowTable(2, 2), table(u(2), u(3), u(4), u(1)), lambda x: x[1:3]),
    LayerRow("NarrowTable-neg", lambda: NarrowTable(2, -1), table(u(2), u(3), u(4), u(1)), lambda x: x[1:]),
    LayerRow("FlattenTable", lambda: FlattenTable(), table(u(2), table(u(3), table(u(1))), u(2, 2)),
             lambda x: [x[0], x[1][0], x[1][1][0], x[2]]),
    LayerRow("Pack", lambda: Pack(2), table(u(4, 3), u(4, 3), u(4, 3)), lambda x: torch.stack(x, 1),
             bad=(table(u(4, 3), u(4, 2)), ["Pack", "(4, 3)", "(4, 2)"])),
    LayerRow("Pack-neg", lambda: Pack(-1), table(u(4, 3), u(4, 3)), lambda x: torch.stack(x, -1)),
    LayerRow("CAddTable", lambda: CAddTable(), table(u(4, 3), u(4, 3), u(4, 3)), lambda x: x[0] + x[1] + x[2],
             x1=table(u(3), u(3), u(3)), bad=(table(u(4, 3), u(4, 2)), ["CAddTable", "(4, 3)", "(4, 2)"])),
    LayerRow("CMulTable", lambda: CMulTable(), table(u(4, 3), u(4, 3), u(4, 3)), lambda x: x[0] * x[1] * x[2],
             x1=table(u(3), u(3), u(3)), bad=(table(table(u(4, 3)), u(4, 3)), ["CMulTable", "nested", "{{(4, 3)}, (4, 3)}"])),
    LayerRow("CSubTable", lambda: CSubTable(), table(u(4, 3), u(4, 3)), lambda x: x[0] - x[1], x1=table(u(3), u(3)),
             bad=(table(u(3), u(3), u(3)), ["CSubTable", "2 elements", "3"])),
    LayerRow("CDivTable", lambda: CDivTable(), table(u(4, 3), away(4, 3)), lambda x: x[0] / x[1],
             x1=table(u(3), away(3))),
    LayerRow("CMaxTable", lambda: CMaxTable(), table(u(4, 3), u(4, 3), u(4, 3)),
             lambda x: torch.max(torch.max(x[0], x[1]), x[2]), x1=table(u(3), u(3), u(3))),
    LayerRow("CMinTable", lambda: CMinTable(), table(u(4, 3), u(4, 3)), lambda x: torch.min(x[0], x[1]),
             x1=table(u(3), u(3))),
    LayerRow("CAveTable", lambda: CAveTable(), table(u(4, 3), u(4, 3), u(4, 3)), lambda x: (x[0] + x[1] + x[2]) / 3,
             x1=table(u(3), u(3), u(3))),

    # Shape layers
    LayerRow("Select", lambda: Select(2, -1), u(4, 3, 5), lambda x: x.select(1, -1),
             bad=(u(4), ["Select", "(4,)"])),
    LayerRow("Select-negdim", lambda: Select(-1, 2), u(4, 3, 5), lambda x: x.select(-1, 1),
             bad=(u(4, 3, 1), ["Select", "index 2", "(4, 3, 1)"])),
    LayerRow("Narrow", lambda: Narrow(2, 2, 3), u(4, 6), lambda x: x.narrow(1, 1, 3),
             bad=(u(4, 3), ["Narrow", "(4, 3)"])),
    LayerRow("Narrow-neglength", lambda: Narrow(-1, 2, -1), u(4, 6), lambda x: x.narrow(-1, 1, x.shape[-1] - 1)),
    LayerRow("Squeeze", lambda: Squeeze(2), u(4, 1, 3), lambda x: x.squeeze(1)),
    LayerRow("Squeeze-batch", lambda: Squeeze(1, num_input_dims=2), u(4, 1, 3), lambda x: x.squeeze(1)),
    LayerRow("Squeeze-all", lambda: Squeeze(), u(4, 1, 3, 1), lambda x: x.squeeze()),
    LayerRow("Unsqueeze", lambda: Unsqueeze(2, num_input_dims=1), u(4, 3), lambda x: x.unsqueeze(-1), x1=u(3)),
    LayerRow("Transpose", lambda: Transpose([(1, 2)]), u(4, 3), lambda x: x.t()),
    LayerRow("Transpose-chain", lambda: Transpose([(1, 3), (2, 3)]), u(2, 3, 4),
             lambda x: x.transpose(0, 2).transpose(1, 2), bad=(u(2, 3), ["Transpose", "(2, 3)"])),
    LayerRow("Padding-after", lambda: Padding(1, 2, 1, value=0.5), u(4, 3), lambda x: F.pad(x, (0, 2), value=0.5),
             x1=u(3)),
    LayerRow("Padding-before", lambda: Padding(1, -2, 1), u(4, 3), lambda x: F.pad(x, (2, 0)), x1=u(3)),
    LayerRow("Padding-inside", lambda: Padding(1, -1, 1, n_index=2), u(4, 3),
             lambda x: torch.cat([x[..., :1], torch.zeros_like(x[..., :1]), x[..., 1:]], -1), x1=u(3)),
    LayerRow("Replicate", lambda: Replicate(3, 1, 1), u(4, 5),
             lambda x: x.unsqueeze(-2).expand(*x.shape[:-1], 3, x.shape[-1]), x1=u(5)),
    LayerRow("Reverse", lambda: Reverse(2), u(4, 5), lambda x: torch.flip(x, [1])),
    LayerRow("Tile", lambda: Tile(2, 3), u(4, 5), lambda x: x.repeat(1, 3)),
    LayerRow("InferReshape", lambda: InferReshape([0, -1, 2]), u(4, 6), lambda x: x.reshape(4, 3, 2)),
    LayerRow("InferReshape-batch", lambda: InferReshape([-1, 2], True), u(4, 6), lambda x: x.reshape(4, 3, 2),
             bad=(u(4, 5), ["InferReshape", "(4, 5)"])),
    LayerRow("Contiguous", lambda: Contiguous(), u(4, 3), lambda x: x, x1=u(3)),
    LayerRow("Echo", lambda: Echo(), u(4, 3), lambda x: x, x1=u(3)),
    LayerRow("Mean", lambda: Mean(1, 1), u(4, 5), lambda x: x.mean(-1), x1=u(5)),
    LayerRow("Mean-noSqueeze", lambda: Mean(2, squeeze=False), u(4, 5, 3), lambda x: x.mean(1, keepdim=True)),
    LayerRow("Sum", lambda: Sum(2), u(4, 5, 3), lambda x: x.sum(1), bad=(u(4), ["Sum", "(4,)"])),
    LayerRow("Sum-average", lambda: Sum(1, 1, size_average=True), u(4, 5), lambda x: x.mean(-1), x1=u(5)),
    LayerRow("Max", lambda: Max(1, num_input_dims=1), u(4, 5), _max(-1), x1=u(5)),
    LayerRow("Min", lambda: Min(2), u(4, 5, 3), _min(1)),
]

CRITERIA = [
    CriterionRow("ClassNLLCriterion", lambda: ClassNLLCriterion(),
                 lambda rng: (np.log(rng.dirichlet(np.ones(4), 6)).astype(np.float32),
                              rng.randint(1, 5, 6).astype(np.float32)),
                 lambda x, t: F.nll_loss(x, t.long() - 1),
                 bad=(lambda rng: (np.zeros((6, 4), np.float32), np.full(6, 5, np.float32)),
                      ["ClassNLLCriterion", "1-based"])),
    CriterionRow("ClassNLLCriterion-sum", lambda: ClassNLLCriterion(size_average=False),
                 lambda rng: (np.log(rng.dirichlet(np.ones(4), 6)).astype(np.float32),
                              rng.randint(1, 5, 6).astype(np.float32)),
                 lambda x, t: F.nll_loss(x, t.long() - 1, reduction="sum")),
    CriterionRow("CrossEntropyCriterion", lambda: CrossEntropyCriterion(),
                 lambda rng: (rng.randn(6, 4).astype(np.float32), rng.randint(1, 5, 6).astype(np.float32)),
                 lambda x, t: F.cross_entropy(x, t.long() - 1)),
    CriterionRow("MSECriterion", lambda: MSECriterion(),
                 lambda rng: (rng.randn(6, 3).astype(np.float32), rng.randn(6, 3).astype(np.float32)),
                 F.mse_loss, bad=(lambda rng: (np.zeros((6, 3), np.float32), np.zeros((6, 2), np.float32)),
                                  ["MSECriterion", "(6, 2)", "(6, 3)"])),
    CriterionRow("AbsCriterion", lambda: AbsCriterion(),
                 lambda rng: (rng.randn(6, 3).astype(np.float32), rng.randn(6, 3).astype(np.float32)), F.l1_loss),
    CriterionRow("BCECriterion", lambda: BCECriterion(),
                 lambda rng: (rng.uniform(0.05, 0.95, (6, 3)).astype(np.float32),
                              rng.randint(0, 2, (6, 3)).astype(np.float32)), F.binary_cross_entropy),
]


def _pm1(rng, n):
    return np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0).astype(np.float32)


def _smooth_l1_weighted(x, t, sigma=2.0):
    tt, inside, outside = t
    d = (inside * (x - tt)).abs()
    s2 = sigma * sigma
    return (outside * torch.where(d < 1 / s2, 0.5 * s2 * d * d, d - 0.5 / s2)).sum() / x.shape[0]


CRITERIA += [
    CriterionRow("ParallelCriterion", lambda: ParallelCriterion().add(MSECriterion(), 0.5).add(ClassNLLCriterion(), 2.0),
                 lambda rng: ([rng.randn(6, 3).astype(np.float32), np.log(rng.dirichlet(np.ones(4), 6)).astype(np.float32)],
                              [rng.randn(6, 3).astype(np.float32), rng.randint(1, 5, 6).astype(np.float32)]),
                 lambda x, t: 0.5 * F.mse_loss(x[0], t[0]) + 2.0 * F.nll_loss(x[1], t[1].long() - 1),
                 bad=(lambda rng: ([np.zeros((6, 3), np.float32)], [np.zeros((6, 3), np.float32)]),
                      ["ParallelCriterion", "2 elements", "(6, 3)"])),
    CriterionRow("ParallelCriterion-repeat", lambda: ParallelCriterion(True).add(MSECriterion()).add(AbsCriterion(), 3.0),
                 lambda rng: ([rng.randn(6, 3).astype(np.float32), rng.randn(6, 3).astype(np.float32)],
                              rng.randn(6, 3).astype(np.float32)),
                 lambda x, t: F.mse_loss(x[0], t) + 3.0 * F.l1_loss(x[1], t)),
    CriterionRow("MultiCriterion", lambda: MultiCriterion().add(MSECriterion(), 0.3).add(AbsCriterion()),
                 lambda rng: (rng.randn(6, 3).astype(np.float32), rng.randn(6, 3).astype(np.float32)),
                 lambda x, t: 0.3 * F.mse_loss(x, t) + F.l1_loss(x, t)),
    CriterionRow("MarginRankingCriterion", lambda: MarginRankingCriterion(0.5),
                 lambda rng: ([rng.randn(8).astype(np.float32), rng.randn(8).astype(np.float32)], _pm1(rng, 8)),
                 lambda x, t: F.margin_ranking_loss(x[0], x[1], t, margin=0.5),
                 bad=(lambda rng: ([np.zeros(8, np.float32), np.zeros(5, np.float32)], np.ones(8, np.float32)),
                      ["MarginRankingCriterion", "(8,)", "(5,)"])),
    CriterionRow("CosineEmbeddingCriterion", lambda: CosineEmbeddingCriterion(0.1),
                 lambda rng: ([rng.randn(6, 4).astype(np.float32), rng.randn(6, 4).astype(np.float32)], _pm1(rng, 6)),
                 lambda x, t: F.cosine_embedding_loss(x[0], x[1], t, margin=0.1)),
    CriterionRow("KLDCriterion", lambda: KLDCriterion(),
                 lambda rng: ([rng.randn(5, 3).astype(np.float32), rng.randn(5, 3).astype(np.float32)],
                              np.zeros((5, 3), np.float32)),
                 lambda x, t: -0.5 * (1 + x[1] - x[0] ** 2 - x[1].exp()).sum() / x[0].shape[0],
                 bad=(lambda rng: (np.zeros((5, 3), np.float32), np.zeros((5, 3), np.float32)),
                      ["KLDCriterion", "two tensors", "(5, 3)"])),
    CriterionRow("GaussianCriterion", lambda: GaussianCriterion(),
                 lambda rng: ([rng.randn(5, 3).astype(np.float32), rng.randn(5, 3).astype(np.float32)],
                              rng.randn(5, 3).astype(np.float32)),
                 lambda x, t: (0.5 * x[1] + 0.5 * np.log(2 * np.pi) + 0.5 * (x[0] - t) ** 2 / x[1].exp()).sum()),
    CriterionRow("SmoothL1CriterionWithWeights", lambda: SmoothL1CriterionWithWeights(2.0),
                 lambda rng: (rng.randn(4, 6).astype(np.float32),
                              [rng.randn(4, 6).astype(np.float32), rng.uniform(0, 2, (4, 6)).astype(np.float32),
                               rng.uniform(0, 2, (4, 6)).astype(np.float32)]),
                 _smooth_l1_weighted,
                 bad=(lambda rng: (np.zeros((4, 6), np.float32), [np.zeros((4, 6), np.float32)] * 2),
                      ["SmoothL1CriterionWithWeights", "target table"])),
]

# "Layers, part 4" keeps its rows in their own module.
from _layer_rows4 import CRITERIA4, LAYERS4  # noqa: E402

LAYERS += LAYERS4
CRITERIA += CRITERIA4
