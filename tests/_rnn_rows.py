"""Harness rows (see _layer_rows.py) for the recurrent layers. Each row's reference is
PyTorch's nn.RNN / nn.LSTM run through torch.func.functional_call on the layer's own
weights, converted here from BigDL's layout: BigDL's LSTM gate blocks are (input, cell,
forget, output), PyTorch's (input, forget, cell, output), and BigDL's LSTM has no
recurrent bias (PyTorch's b_hh is zero). BigDL's GRU is not PyTorch's (its reset gate
scales the state before the product with U_n, PyTorch's scales the product), so its rows
follow BigDL's definition written in torch operations; test_recurrent.py checks the same
GRU by finite differences too."""
import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from bigdl.nn.criterion import (ClassNLLCriterion, MSECriterion, TimeDistributedCriterion,
                                TimeDistributedMaskCriterion)
from bigdl.nn.layer import (GRU, LSTM, BiRecurrent, ConvLSTMPeephole, LSTMPeephole, MultiRNNCell, RecurrentDecoder, Identity, JoinTable, Linear, LookupTable, Recurrent, ReLU, RnnCell, Sequential, Sigmoid,
                            SoftMax, SoftPlus, Tanh, TimeDistributed)

from _layer_rows import CriterionRow, LayerRow, u

# Hidden sizes 1, 7, 17 and 33 are not multiples of any kernel's tile.
SIZES = [("", 3, 5, 4, 7), ("-seq1", 2, 1, 3, 17), ("-batch1", 1, 6, 5, 33), ("-hidden1", 4, 3, 2, 1)]


def lstm_gates_to_torch(a, h):
    """BigDL's (i, g, f, o) blocks of a weight or bias as PyTorch's (i, f, g, o)."""
    i, g, f, o = a.split(h)
    return torch.cat([i, f, g, o])


def torch_lstm_ref(i, h):
    m = torch.nn.LSTM(i, h, batch_first=True).double()

    def ref(x, W, b, U):
        p = {"weight_ih_l0": lstm_gates_to_torch(W, h), "bias_ih_l0": lstm_gates_to_torch(b, h),
             "weight_hh_l0": lstm_gates_to_torch(U, h), "bias_hh_l0": torch.zeros(4 * h, dtype=x.dtype)}
        return functional_call(m, p, (x,))[0]
    return ref


def torch_rnn_ref(i, h, nonlinearity="tanh", input_bias=True, hidden_bias=True):
    m = torch.nn.RNN(i, h, nonlinearity=nonlinearity, batch_first=True).double()

    def ref(x, *w):
        w = list(w)
        W = w.pop(0)
        b = w.pop(0) if input_bias else torch.zeros(h, dtype=x.dtype)
        U = w.pop(0)
        bh = w.pop(0) if hidden_bias else torch.zeros(h, dtype=x.dtype)
        p = {"weight_ih_l0": W, "bias_ih_l0": b, "weight_hh_l0": U, "bias_hh_l0": bh}
        return functional_call(m, p, (x,))[0]
    return ref


def bigdl_gru_ref(h, act=torch.tanh, inner=torch.sigmoid):
    """BigDL's GRU in torch operations: r and z from the input projection plus h·U_{r,z}ᵀ,
    the candidate from the input projection plus (r·h)·U_nᵀ, h' = (1−z)·n + z·h."""
    def ref(x, W, b, U, Un):
        n, steps = x.shape[0], x.shape[1]
        state, outs = torch.zeros(n, h, dtype=x.dtype), []
        for t in range(steps):
            p = x[:, t] @ W.T + b
            rz = inner(p[:, :2 * h] + state @ U.T)
            r, z = rz[:, :h], rz[:, h:]
            cand = act(p[:, 2 * h:] + (r * state) @ Un.T)
            state = (1 - z) * cand + z * state
            outs.append(state)
        return torch.stack(outs, 1)
    return ref


def rec(cell):
    return lambda: Recurrent().add(cell())


def lstm_rows():
    rows = []
    for tag, n, t, i, h in SIZES:
        rows.append(LayerRow("Recurrent-LSTM" + tag, rec(lambda i=i, h=h: LSTM(i, h)), u(n, t, i),
                             torch_lstm_ref(i, h), params=[(4 * h, i), (4 * h,), (4 * h, h)],
                             bad=(u(n, t, i + 1), ["Recurrent", "(batch, time, %d)" % i, "(%d, %d, %d)" % (n, t, i + 1)])))
    return rows


def rnn_rows():
    rows = []
    for tag, n, t, i, h in SIZES:
        rows.append(LayerRow("Recurrent-RnnCell" + tag, rec(lambda i=i, h=h: RnnCell(i, h, "tanh")), u(n, t, i),
                             torch_rnn_ref(i, h), params=[(h, i), (h,), (h, h), (h,)],
                             bad=(u(n, i), ["Recurrent", "(batch, time, %d)" % i, "(%d, %d)" % (n, i)])))
    rows.append(LayerRow("Recurrent-RnnCell-relu-nobias", rec(lambda: RnnCell(3, 6, "relu", False, False)), u(3, 4, 3),
                         torch_rnn_ref(3, 6, "relu", False, False), params=[(6, 3), (6, 6)]))
    rows.append(LayerRow("Recurrent-RnnCell-hidden-bias-only", rec(lambda: RnnCell(3, 5, "tanh", False, True)),
                         u(2, 4, 3), torch_rnn_ref(3, 5, input_bias=False), params=[(5, 3), (5, 5), (5,)]))
    return rows


def gru_rows():
    rows = []
    for tag, n, t, i, h in SIZES:
        rows.append(LayerRow("Recurrent-GRU" + tag, rec(lambda i=i, h=h: GRU(i, h)), u(n, t, i), bigdl_gru_ref(h),
                             params=[(3 * h, i), (3 * h,), (2 * h, h), (h, h)],
                             bad=(u(n, t, i - 1 if i > 1 else 2), ["Recurrent", "(batch, time, %d)" % i])))
    return rows


def bigdl_lstm_ref(h, act, inner):
    """BigDL's LSTM in torch operations, for activations nn.LSTM cannot take."""
    def ref(x, W, b, U):
        n, steps = x.shape[0], x.shape[1]
        state, cell, outs = torch.zeros(n, h, dtype=x.dtype), torch.zeros(n, h, dtype=x.dtype), []
        for t in range(steps):
            p = x[:, t] @ W.T + b + state @ U.T
            i, g, f, o = inner(p[:, :h]), act(p[:, h:2 * h]), inner(p[:, 2 * h:3 * h]), inner(p[:, 3 * h:])
            cell = f * cell + i * g
            state = o * act(cell)
            outs.append(state)
        return torch.stack(outs, 1)
    return ref


def hard_sigmoid(x):
    return torch.clamp(0.2 * x + 0.5, 0, 1)  # BigDL's (Keras's) slope, not PyTorch's x/6


ACTIVATION_ROWS = [
    LayerRow("Recurrent-LSTM-softsign-hard_sigmoid",
             rec(lambda: LSTM(3, 5, activation="softsign", inner_activation="hard_sigmoid")),
             u(2, 4, 3, lo=-2, hi=2), bigdl_lstm_ref(5, torch.nn.functional.softsign, hard_sigmoid),
             params=[(20, 3), (20,), (20, 5)]),
    LayerRow("Recurrent-LSTM-layer-activations", rec(lambda: LSTM(3, 4, 0.0, ReLU(), SoftPlus())), u(2, 3, 3),
             bigdl_lstm_ref(4, torch.relu, torch.nn.functional.softplus), params=[(16, 3), (16,), (16, 4)]),
    LayerRow("Recurrent-GRU-softmax-linear", rec(lambda: GRU(3, 4, activation=SoftMax(), inner_activation=Identity())),
             u(2, 3, 3), bigdl_gru_ref(4, lambda v: torch.softmax(v, -1), lambda v: v),
             params=[(12, 3), (12,), (8, 4), (4, 4)]),
    LayerRow("Recurrent-RnnCell-sigmoid", rec(lambda: RnnCell(4, 3, Sigmoid())), u(3, 5, 4),
             lambda x, W, b, U, bh: bigdl_rnn_sigmoid(x, W, b, U, bh), params=[(3, 4), (3,), (3, 3), (3,)]),
]


def bigdl_rnn_sigmoid(x, W, b, U, bh):
    state, outs = torch.zeros(x.shape[0], W.shape[0], dtype=x.dtype), []
    for t in range(x.shape[1]):
        state = torch.sigmoid(x[:, t] @ W.T + b + state @ U.T + bh)
        outs.append(state)
    return torch.stack(outs, 1)


RNN_LAYERS = lstm_rows() + rnn_rows() + gru_rows() + ACTIVATION_ROWS  # BI_LAYERS join below


# Sequence layers: the embedding against F.embedding (BigDL's indices are 1-based floats,
# PyTorch's 0-based integers), TimeDistributed against the module on every step.

def indices(n_index, *shape, lo=1):
    return lambda rng: rng.randint(lo, n_index + 1, size=shape).astype(np.float32)


def embedding_ref(padding=None, scale=False):
    def ref(x, W):
        return F.embedding(x.long() - 1, W, padding_idx=None if padding is None else int(padding) - 1,
                           scale_grad_by_freq=scale)
    return ref


SEQUENCE_LAYERS = [
    LayerRow("LookupTable", lambda: LookupTable(9, 5), indices(9, 3, 6), embedding_ref(), x1=indices(9, 7),
             params=[(9, 5)], init_args=("wRegularizer",),
             bad=(lambda rng: np.array([[1, 0, 2]], np.float32), ["LookupTable", "(1, 3)", "index 0", "n_index = 9"])),
    LayerRow("LookupTable-too-large", lambda: LookupTable(4, 3), indices(4, 2, 5), embedding_ref(), params=[(4, 3)],
             bad=(lambda rng: np.array([2, 5], np.float32), ["LookupTable", "(2,)", "index 5", "n_index = 4"])),
    LayerRow("LookupTable-padding", lambda: LookupTable(6, 4, padding_value=2), indices(6, 4, 5), embedding_ref(2),
             params=[(6, 4)]),
    LayerRow("LookupTable-scale-by-freq", lambda: LookupTable(5, 3, should_scale_grad_by_freq=True), indices(5, 3, 8),
             embedding_ref(scale=True), x1=indices(5, 9), params=[(5, 3)]),
    LayerRow("TimeDistributed-Linear", lambda: TimeDistributed(Linear(4, 3)), u(2, 5, 4), lambda x, W, b: F.linear(x, W, b),
             params=[(3, 4), (3,)],
             bad=(u(2, 4), ["TimeDistributed", "(batch, time, ...)", "(2, 4)"])),
    LayerRow("TimeDistributed-Sequential", lambda: TimeDistributed(Sequential().add(Linear(3, 6)).add(Tanh())),
             u(3, 1, 3), lambda x, W, b: torch.tanh(F.linear(x, W, b)), params=[(6, 3), (6,)]),
]


def step_nll(x, t, mask_pad=None, size_average=False):
    """Σ over steps of the batch-mean NLL of each step, or (mask_pad) the mean NLL over the
    positions whose label is not mask_pad."""
    if mask_pad is not None:
        keep = t != mask_pad
        return F.nll_loss(x[keep], t[keep].long() - 1)
    loss = sum(F.nll_loss(x[:, s], t[:, s].long() - 1) for s in range(x.shape[1]))
    return loss / x.shape[1] if size_average else loss


def log_probs_and_labels(n, steps, classes, pad=False):
    def data(rng):
        x = np.log(rng.dirichlet(np.ones(classes), (n, steps))).astype(np.float32)
        t = rng.randint(1, classes + 1, (n, steps)).astype(np.float32)
        if pad:
            t[0, -2:] = 0
            t[1, -1] = 0
        return x, t
    return data


SEQUENCE_CRITERIA = [
    CriterionRow("TimeDistributedCriterion", lambda: TimeDistributedCriterion(ClassNLLCriterion()),
                 log_probs_and_labels(3, 4, 5), step_nll,
                 bad=(lambda rng: (np.zeros((3, 4, 5), np.float32), np.ones((3, 2), np.float32)),
                      ["TimeDistributedCriterion", "(3, 4, 5)", "(3, 2)"])),
    CriterionRow("TimeDistributedCriterion-average", lambda: TimeDistributedCriterion(ClassNLLCriterion(), True),
                 log_probs_and_labels(2, 5, 3), lambda x, t: step_nll(x, t, size_average=True)),
    CriterionRow("TimeDistributedCriterion-MSE-dim1",
                 lambda: TimeDistributedCriterion(MSECriterion(), dimension=1),
                 lambda rng: (rng.randn(4, 3, 2).astype(np.float32), rng.randn(4, 3, 2).astype(np.float32)),
                 lambda x, t: sum(F.mse_loss(x[s], t[s]) for s in range(x.shape[0]))),
    CriterionRow("TimeDistributedMaskCriterion", lambda: TimeDistributedMaskCriterion(ClassNLLCriterion()),
                 log_probs_and_labels(3, 4, 5, pad=True), lambda x, t: step_nll(x, t, mask_pad=0),
                 bad=(lambda rng: (np.zeros((2, 3, 4), np.float32), np.zeros((2, 3), np.float32)),
                      ["TimeDistributedMaskCriterion", "every target", "padding"])),
    CriterionRow("TimeDistributedMaskCriterion-sum-inner",
                 lambda: TimeDistributedMaskCriterion(ClassNLLCriterion(size_average=False), padding_value=-1),
                 lambda rng: (np.log(rng.dirichlet(np.ones(3), (2, 4))).astype(np.float32),
                              np.array([[1, 2, -1, -1], [3, 3, 1, -1]], np.float32)),
                 lambda x, t: step_nll(x, t, mask_pad=-1)),
]


def torch_bilstm_ref(i, h, merge):
    """nn.LSTM(bidirectional=True) on BigDL's two weight sets, its halves merged by merge."""
    m = torch.nn.LSTM(i, h, batch_first=True, bidirectional=True).double()

    def ref(x, W, b, U, Wr, br, Ur):
        zero = torch.zeros(4 * h, dtype=x.dtype)
        p = {"weight_ih_l0": lstm_gates_to_torch(W, h), "bias_ih_l0": lstm_gates_to_torch(b, h),
             "weight_hh_l0": lstm_gates_to_torch(U, h), "bias_hh_l0": zero,
             "weight_ih_l0_reverse": lstm_gates_to_torch(Wr, h), "bias_ih_l0_reverse": lstm_gates_to_torch(br, h),
             "weight_hh_l0_reverse": lstm_gates_to_torch(Ur, h), "bias_hh_l0_reverse": zero}
        y = functional_call(m, p, (x,))[0]
        return merge(y[..., :h], y[..., h:])
    return ref


def torch_birnn_ref(i, h):
    m = torch.nn.RNN(i, h, batch_first=True, bidirectional=True).double()

    def ref(x, W, b, U, bh, Wr, br, Ur, bhr):
        p = {"weight_ih_l0": W, "bias_ih_l0": b, "weight_hh_l0": U, "bias_hh_l0": bh, "weight_ih_l0_reverse": Wr,
             "bias_ih_l0_reverse": br, "weight_hh_l0_reverse": Ur, "bias_hh_l0_reverse": bhr}
        y = functional_call(m, p, (x,))[0]
        return y[..., :h] + y[..., h:]
    return ref


def birec(cell, merge=None):
    def make():
        b = BiRecurrent(merge() if merge else None).add(cell())
        # BigDL's reverse cell starts as a copy of the forward one; draw it afresh so a swapped
        # direction cannot pass the reference.
        w = b.get_weights()
        rs = np.random.RandomState(len(w))
        b.set_weights(w[:len(w) // 2] + [rs.uniform(-0.5, 0.5, a.shape).astype(np.float32) for a in w[len(w) // 2:]])
        return b
    return make


BI_LAYERS = [
    LayerRow("BiRecurrent-LSTM-sum", birec(lambda: LSTM(3, 5)), u(2, 6, 3), torch_bilstm_ref(3, 5, torch.add),
             params=[(20, 3), (20,), (20, 5)] * 2,
             bad=(u(2, 6, 4), ["BiRecurrent", "(batch, time, 3)", "(2, 6, 4)"])),
    LayerRow("BiRecurrent-LSTM-concat", birec(lambda: LSTM(4, 7), lambda: JoinTable(3, 3)), u(3, 1, 4),
             torch_bilstm_ref(4, 7, lambda a, b: torch.cat([a, b], -1)), params=[(28, 4), (28,), (28, 7)] * 2),
    LayerRow("BiRecurrent-RnnCell-batch1", birec(lambda: RnnCell(3, 17, "tanh")), u(1, 5, 3), torch_birnn_ref(3, 17),
             params=[(17, 3), (17,), (17, 17), (17,)] * 2),
]

RNN_LAYERS += BI_LAYERS


def bigdl_peephole_ref(h):
    """BigDL's LSTMPeephole in torch operations (PyTorch has no peephole LSTM): gates in the
    order input, forget, cell, output; the input and forget gates see the previous cell state,
    the output gate the new one."""
    def ref(x, W, b, U, pi, pf, po):
        n, steps = x.shape[0], x.shape[1]
        state, cell, outs = torch.zeros(n, h, dtype=x.dtype), torch.zeros(n, h, dtype=x.dtype), []
        for t in range(steps):
            p = x[:, t] @ W.T + b + state @ U.T
            i = torch.sigmoid(p[:, :h] + pi * cell)
            f = torch.sigmoid(p[:, h:2 * h] + pf * cell)
            g = torch.tanh(p[:, 2 * h:3 * h])
            cell = f * cell + i * g
            o = torch.sigmoid(p[:, 3 * h:] + po * cell)
            state = o * torch.tanh(cell)
            outs.append(state)
        return torch.stack(outs, 1)
    return ref


def peephole_rows():
    rows = []
    for tag, n, t, i, h in SIZES:
        rows.append(LayerRow("Recurrent-LSTMPeephole" + tag, rec(lambda i=i, h=h: LSTMPeephole(i, h)), u(n, t, i),
                             bigdl_peephole_ref(h), params=[(4 * h, i), (4 * h,), (4 * h, h), (h,), (h,), (h,)],
                             bad=(u(n, t, i + 2), ["Recurrent", "(batch, time, %d)" % i])))
    return rows


RNN_LAYERS += peephole_rows()


def torch_stacked_lstm_ref(i, h):
    m = torch.nn.LSTM(i, h, num_layers=2, batch_first=True).double()

    def ref(x, W0, b0, U0, W1, b1, U1):
        zero = torch.zeros(4 * h, dtype=x.dtype)
        p = {}
        for k, (W, b, U) in enumerate(((W0, b0, U0), (W1, b1, U1))):
            p.update({"weight_ih_l%d" % k: lstm_gates_to_torch(W, h), "bias_ih_l%d" % k: lstm_gates_to_torch(b, h),
                      "weight_hh_l%d" % k: lstm_gates_to_torch(U, h), "bias_hh_l%d" % k: zero})
        return functional_call(m, p, (x,))[0]
    return ref


RNN_LAYERS += [
    LayerRow("Recurrent-MultiRNNCell-LSTMx2", rec(lambda: MultiRNNCell([LSTM(3, 6), LSTM(6, 6)])), u(2, 5, 3),
             torch_stacked_lstm_ref(3, 6), params=[(24, 3), (24,), (24, 6), (24, 6), (24,), (24, 6)],
             bad=(u(2, 5, 6), ["Recurrent", "(batch, time, 3)", "(2, 5, 6)"])),
    LayerRow("Recurrent-MultiRNNCell-GRU-RnnCell", rec(lambda: MultiRNNCell([GRU(4, 3), RnnCell(3, 2, "tanh")])),
             u(3, 4, 4), lambda x, W, b, U, Un, W2, b2, U2, bh2: torch_rnn_ref(3, 2)(bigdl_gru_ref(3)(x, W, b, U, Un),
                                                                                   W2, b2, U2, bh2),
             params=[(9, 4), (9,), (6, 3), (3, 3), (2, 3), (2,), (2, 2), (2,)]),
]


def decoder_ref(step, length, h, cell_state=False):
    """RecurrentDecoder: step 1 reads the input, each later step the previous output."""
    def ref(x, *w):
        state = torch.zeros(x.shape[0], h, dtype=x.dtype)
        cell = torch.zeros_like(state)
        inp, outs = x, []
        for _ in range(length):
            state, cell = step(inp, state, cell, *w)
            outs.append(state)
            inp = state
        return torch.stack(outs, 1)
    return ref


def lstm_step(h):
    def step(x, state, cell, W, b, U):
        p = x @ W.T + b + state @ U.T
        i, g, f, o = torch.sigmoid(p[:, :h]), torch.tanh(p[:, h:2 * h]), torch.sigmoid(p[:, 2 * h:3 * h]), \
            torch.sigmoid(p[:, 3 * h:])
        cell = f * cell + i * g
        return o * torch.tanh(cell), cell
    return step


def gru_step(h):
    def step(x, state, cell, W, b, U, Un):
        p = x @ W.T + b
        rz = torch.sigmoid(p[:, :2 * h] + state @ U.T)
        r, z = rz[:, :h], rz[:, h:]
        n = torch.tanh(p[:, 2 * h:] + (r * state) @ Un.T)
        return (1 - z) * n + z * state, cell
    return step


def rnn_step(x, state, cell, W, b, U, bh):
    return torch.tanh(x @ W.T + b + state @ U.T + bh), cell


def decoder(length, cell):
    return lambda: RecurrentDecoder(length).add(cell())


RNN_LAYERS += [
    LayerRow("RecurrentDecoder-LSTM", decoder(5, lambda: LSTM(4, 4)), u(3, 4), decoder_ref(lstm_step(4), 5, 4),
             params=[(16, 4), (16,), (16, 4)],
             bad=(u(3, 5, 4), ["RecurrentDecoder", "(batch, 4)", "(3, 5, 4)"])),
    LayerRow("RecurrentDecoder-GRU-length1", decoder(1, lambda: GRU(7, 7)), u(2, 7), decoder_ref(gru_step(7), 1, 7),
             params=[(21, 7), (21,), (14, 7), (7, 7)]),
    LayerRow("RecurrentDecoder-RnnCell-batch1", decoder(6, lambda: RnnCell(3, 3, "tanh")), u(1, 3),
             decoder_ref(rnn_step, 6, 3), params=[(3, 3), (3,), (3, 3), (3,)]),
]


def bigdl_convlstm_ref(out, pad_i, pad_c, peephole=True):
    """BigDL's ConvLSTMPeephole in torch operations (PyTorch has no convolutional LSTM): gate
    blocks input, forget, cell, output along the stacked convolutions' output channels;
    per-channel peepholes."""
    def ref(x, Wx, bx, Wh, *peeps):
        n, steps = x.shape[0], x.shape[1]
        state = cell = None
        outs = []
        for t in range(steps):
            p = F.conv2d(x[:, t], Wx[0], bx, padding=pad_i)
            if state is None:
                state = torch.zeros(n, out, p.shape[2], p.shape[3], dtype=x.dtype)
                cell = torch.zeros_like(state)
            p = p + F.conv2d(state, Wh[0], padding=pad_c)
            i, f, g, o = p[:, :out], p[:, out:2 * out], p[:, 2 * out:3 * out], p[:, 3 * out:]
            if peephole:
                i, f = i + peeps[0] * cell, f + peeps[1] * cell
            i, f, g = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g)
            cell = f * cell + i * g
            if peephole:
                o = o + peeps[2] * cell
            state = torch.sigmoid(o) * torch.tanh(cell)
            outs.append(state)
        return torch.stack(outs, 1)
    return ref


RNN_LAYERS += [
    LayerRow("Recurrent-ConvLSTMPeephole", rec(lambda: ConvLSTMPeephole(2, 3, 3, 3)), u(2, 3, 2, 5, 4),
             bigdl_convlstm_ref(3, 1, 1),
             params=[(1, 12, 2, 3, 3), (12,), (1, 12, 3, 3, 3), (1, 3, 1, 1), (1, 3, 1, 1), (1, 3, 1, 1)],
             bad=(u(2, 3, 4, 5, 4), ["ConvLSTMPeephole", "(batch, time, 2, H, W)", "(2, 3, 4, 5, 4)"])),
    LayerRow("Recurrent-ConvLSTMPeephole-nopeep-seq1", rec(lambda: ConvLSTMPeephole(3, 2, 1, 3, with_peephole=False)),
             u(1, 1, 3, 4, 4), bigdl_convlstm_ref(2, 0, 1, peephole=False),
             params=[(1, 8, 3, 1, 1), (8,), (1, 8, 2, 3, 3)]),
]
