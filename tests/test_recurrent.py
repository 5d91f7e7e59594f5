"""Recurrent layers beyond the harness rows (_rnn_rows.py): the state after the last step,
BigDL's GRU by finite differences, and the errors of misuse."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bigdl.nn.layer import GRU, LSTM, BiRecurrent, ConvLSTMPeephole, LSTMPeephole, MultiRNNCell, RecurrentDecoder, JoinTable, Linear, LookupTable, Recurrent, RnnCell, Sequential, Tanh
from bigdl.util.common import RNG

from _rnn_rows import bigdl_gru_ref, lstm_gates_to_torch
from _reference import assert_close


def test_lstm_hidden_state_is_torchs_last_h_and_c():
    rng = np.random.RandomState(1)
    x = rng.uniform(-1, 1, (3, 6, 4)).astype(np.float32)
    m = Recurrent().add(LSTM(4, 9))
    W, b, U = [torch.tensor(w, dtype=torch.float64) for w in m.get_weights()]
    t = torch.nn.LSTM(4, 9, batch_first=True).double()
    with torch.no_grad():
        t.weight_ih_l0.copy_(lstm_gates_to_torch(W, 9))
        t.bias_ih_l0.copy_(lstm_gates_to_torch(b, 9))
        t.weight_hh_l0.copy_(lstm_gates_to_torch(U, 9))
        t.bias_hh_l0.zero_()
        _, (h, c) = t(torch.tensor(x, dtype=torch.float64))
    m.forward(x)
    state = m.get_hidden_state()
    assert len(state) == 2
    assert_close(state[0], h[0].numpy(), 1e-5, "last hidden state")
    assert_close(state[1], c[0].numpy(), 1e-5, "last cell state")


@pytest.mark.parametrize("cell", [lambda: GRU(3, 5), lambda: RnnCell(3, 5, Tanh())])
def test_single_state_cells_report_their_last_output(cell):
    x = np.random.RandomState(2).uniform(-1, 1, (2, 4, 3)).astype(np.float32)
    m = Recurrent().add(cell())
    y = m.forward(x)
    state = m.get_hidden_state()
    assert len(state) == 1
    np.testing.assert_array_equal(state[0], y[:, -1])


def test_gru_weight_gradients_match_finite_differences():
    # BigDL's GRU applies the reset gate to the state before U_n (PyTorch applies it after),
    # so nn.GRU is no reference: BigDL's definition, differenced numerically in float64.
    rng = np.random.RandomState(3)
    x = rng.uniform(-1, 1, (2, 3, 3)).astype(np.float32)
    gy = rng.uniform(-1, 1, (2, 3, 4)).astype(np.float32)
    m = Recurrent().add(GRU(3, 4))
    m.zero_grad_parameters()
    m.forward(x)
    m.backward(x, gy)
    grads = m._call("get_grads")[1]
    weights = [w.astype(np.float64) for w in m.get_weights()]
    ref = bigdl_gru_ref(4)
    xt = torch.tensor(x, dtype=torch.float64)

    def proj(ws):
        return float((ref(xt, *[torch.tensor(w) for w in ws]) * torch.tensor(gy, dtype=torch.float64)).sum())
    eps = 1e-5
    for k, w in enumerate(weights):
        fd = np.zeros_like(w)
        for i in range(w.size):
            old = w.flat[i]
            w.flat[i] = old + eps
            hi = proj(weights)
            w.flat[i] = old - eps
            lo = proj(weights)
            w.flat[i] = old
            fd.flat[i] = (hi - lo) / (2 * eps)
        assert_close(grads[k], fd, 1e-4, "GRU parameter %d gradient" % k)


def test_recurrent_without_a_cell_names_itself():
    with pytest.raises(ValueError, match=r"Recurrent.*no cell"):
        Recurrent().forward(np.zeros((2, 3, 4), np.float32))


def test_recurrent_takes_exactly_one_cell():
    r = Recurrent().add(LSTM(4, 3))
    with pytest.raises(ValueError, match=r"Recurrent.*exactly one cell.*LSTM"):
        r.add(GRU(4, 3))
    with pytest.raises(ValueError, match=r"Recurrent.*expected a recurrent cell.*Linear"):
        Recurrent().add(Linear(4, 3))
    assert r.forward(np.zeros((2, 5, 4), np.float32)).shape == (2, 5, 3)


@pytest.mark.parametrize("x, shape", [(np.zeros((2, 4), np.float32), r"\(2, 4\)"),
                                      (np.zeros((2, 5, 3), np.float32), r"\(2, 5, 3\)"),
                                      (np.zeros((2, 5, 4, 1), np.float32), r"\(2, 5, 4, 1\)")])
def test_bad_sequences_name_layer_and_shapes(x, shape):
    m = Sequential().add(Recurrent().add(LSTM(4, 3)))
    with pytest.raises(ValueError, match=r"Recurrent.*\(batch, time, 4\).*" + shape):
        m.forward(x)


def test_cell_outside_recurrent_says_where_it_belongs():
    with pytest.raises(ValueError, match=r"LSTM.*Recurrent"):
        LSTM(4, 3).forward(np.zeros((2, 4), np.float32))


def test_hidden_state_before_forward_is_an_error():
    with pytest.raises(ValueError, match="get_hidden_state"):
        Recurrent().add(GRU(2, 3)).get_hidden_state()


@pytest.mark.parametrize("make, words", [
    (lambda: LSTM(4, 3, activation="tanhh"), "LSTM: activation must be one of"),
    (lambda: GRU(4, 3, inner_activation=Linear(2, 2)), "GRU: inner_activation must be one of"),
    (lambda: RnnCell(4, 3, None), "RnnCell: activation is required"),
    (lambda: LSTM(0, 3), "input_size"),
    (lambda: LSTM(4, 3, p=1.5), "p must be in [0, 1)"),
])
def test_bad_cell_arguments(make, words):
    with pytest.raises(ValueError) as e:
        make()
    assert words in str(e.value)


def test_regularizers_reach_the_right_weights():
    from bigdl.optim.optimizer import L2Regularizer
    x = np.random.RandomState(4).uniform(-1, 1, (2, 3, 2)).astype(np.float32)
    plain, reg = Recurrent().add(LSTM(2, 3)), Recurrent().add(LSTM(2, 3, uRegularizer=L2Regularizer(0.5)))
    reg.set_weights(plain.get_weights())
    grads = []
    for m in (plain, reg):
        m.zero_grad_parameters()
        y = m.forward(x)
        m.backward(x, np.ones_like(y))
        grads.append(m._call("get_grads")[1])
    W, b, U = plain.get_weights()
    np.testing.assert_allclose(grads[1][0], grads[0][0])
    np.testing.assert_allclose(grads[1][1], grads[0][1])
    np.testing.assert_allclose(grads[1][2], grads[0][2] + 0.5 * U, rtol=1e-5, atol=1e-6)


def seeded_forward(m, x, seed=5):
    """Forward with the global stream reset first: the dropout masks are the same every call."""
    RNG().set_seed(seed)
    return m.forward(x)


@pytest.mark.parametrize("cell", [lambda: LSTM(3, 4, p=0.4), lambda: GRU(3, 4, p=0.4), lambda: LSTMPeephole(3, 4, 0.3)],
                         ids=["LSTM", "GRU", "LSTMPeephole"])
def test_dropout_cells_gradients_match_finite_differences(cell):
    # With p > 0 each gate drops its own copy of the input and of the state (BigDL's layers),
    # with masks drawn per sequence: under a fixed seed the masks repeat, so finite
    # differences of the training-mode output check backward through the masks.
    rng = np.random.RandomState(6)
    x = rng.uniform(-1, 1, (2, 5, 3)).astype(np.float32)
    m = Recurrent().add(cell())
    gy = rng.uniform(-1, 1, (2, 5, 4)).astype(np.float32)
    m.zero_grad_parameters()
    y = seeded_forward(m, x)
    gx = m.backward(x, gy)
    assert np.any(seeded_forward(m, x, seed=6) != y), "the masks do not depend on the stream"
    fd = np.zeros(x.shape)
    eps = 1e-2
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + eps
        hi = float(np.sum(np.float64(seeded_forward(m, x)) * gy))
        x.flat[i] = old - eps
        lo = float(np.sum(np.float64(seeded_forward(m, x)) * gy))
        x.flat[i] = old
        fd.flat[i] = (hi - lo) / (2 * eps)
    assert_close(gx, fd, 2e-3, "gradInput under dropout")
    # The weights' gradients, one weight at a time, the same way.
    grads = m._call("get_grads")[1]
    weights = m.get_weights()
    for k in range(len(weights)):
        w = weights[k]
        for i in rng.choice(w.size, min(6, w.size), replace=False):
            old = w.flat[i]
            w.flat[i] = old + eps
            m.set_weights(weights)
            hi = float(np.sum(np.float64(seeded_forward(m, x)) * gy))
            w.flat[i] = old - eps
            m.set_weights(weights)
            lo = float(np.sum(np.float64(seeded_forward(m, x)) * gy))
            w.flat[i] = old
            m.set_weights(weights)
            assert abs(grads[k].flat[i] - (hi - lo) / (2 * eps)) <= 2e-3 * max(1, abs(grads[k].flat[i])), \
                "parameter %d element %d" % (k, i)


def test_dropout_lstm_has_recurrent_biases_and_evaluates_without_dropping():
    x = np.random.RandomState(7).uniform(-1, 1, (2, 4, 3)).astype(np.float32)
    drop, plain = Recurrent().add(LSTM(3, 5, p=0.5)), Recurrent().add(LSTM(3, 5))
    shapes = [w.shape for w in drop.get_weights()]
    assert shapes == [(20, 3), (20,), (20, 5), (20,)]
    W, b, U, bh = drop.get_weights()
    plain.set_weights([W, b + bh, U])
    drop.evaluate()
    np.testing.assert_allclose(drop.forward(x), plain.forward(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0])
def test_lookup_table_max_norm_renormalises_the_rows_it_reads(norm_type):
    x = np.array([[1, 3, 3], [5, 1, 2]], np.float32)
    m = LookupTable(6, 4, max_norm=0.8, norm_type=norm_type)
    before = m.get_weights()[0]
    W = torch.tensor(before, dtype=torch.float64)
    with torch.no_grad():
        ref = F.embedding(torch.tensor(x, dtype=torch.long) - 1, W, max_norm=0.8, norm_type=norm_type)
    y = m.forward(x)
    assert_close(y, ref.numpy(), 1e-5, "max_norm output")
    after = m.get_weights()[0]
    assert_close(after, W.numpy(), 1e-5, "renormalised weight")
    # Rows 4 and 6 were not read: untouched, whatever their norm.
    np.testing.assert_array_equal(after[[3, 5]], before[[3, 5]])


def test_lookup_table_reads_float_indices_as_integers_and_starts_normal():
    m = LookupTable(1000, 50)
    w = m.get_weights()[0]
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # BigDL's RandomNormal(0, 1)
    np.testing.assert_array_equal(m.forward(np.array([2.7, 1.0], np.float32)), w[[1, 0]])


def test_birecurrent_reverse_cell_starts_as_a_copy_and_trains_apart():
    b = BiRecurrent().add(GRU(3, 4))
    w = b.get_weights()
    assert len(w) == 8
    for a, r in zip(w[:4], w[4:]):
        np.testing.assert_array_equal(a, r)
    x = np.random.RandomState(8).uniform(-1, 1, (2, 5, 3)).astype(np.float32)
    b.forward(x)
    b.backward(x, np.ones((2, 5, 4), np.float32))
    g = b._call("get_grads")[1]
    assert not np.allclose(g[0], g[4]), "both directions got the same gradient"


def test_birecurrent_misuse_is_named():
    with pytest.raises(ValueError, match=r"BiRecurrent.*no cell"):
        BiRecurrent().forward(np.zeros((2, 3, 4), np.float32))
    b = BiRecurrent(JoinTable(3, 3)).add(LSTM(4, 3))
    with pytest.raises(ValueError, match=r"BiRecurrent.*exactly one cell"):
        b.add(LSTM(4, 3))
    with pytest.raises(ValueError, match=r"BiRecurrent.*already has the merge layer"):
        b.add(JoinTable(3, 3))
    with pytest.raises(ValueError, match=r"BiRecurrent.*\(batch, time, 4\).*\(2, 4\)"):
        b.forward(np.zeros((2, 4), np.float32))
    assert b.forward(np.zeros((2, 5, 4), np.float32)).shape == (2, 5, 6)


def test_multi_rnn_cell_checks_sizes_and_reports_every_state():
    with pytest.raises(ValueError, match=r"MultiRNNCell.*takes inputs of 4, but the cell below gives 5"):
        MultiRNNCell([LSTM(3, 5), GRU(4, 2)])
    with pytest.raises(ValueError, match=r"MultiRNNCell.*expected a recurrent cell.*Linear"):
        MultiRNNCell([Linear(3, 5)])
    m = Recurrent().add(MultiRNNCell([LSTM(3, 5), GRU(5, 2)]))
    y = m.forward(np.random.RandomState(9).uniform(-1, 1, (2, 4, 3)).astype(np.float32))
    states = m.get_hidden_state()
    assert [s.shape for s in states] == [(2, 5), (2, 5), (2, 2)]
    np.testing.assert_array_equal(states[2], y[:, -1])


def test_recurrent_decoder_refuses_cells_it_cannot_feed_back():
    with pytest.raises(ValueError, match=r"RecurrentDecoder.*input size = hidden size, got 3 and 4"):
        RecurrentDecoder(3).add(LSTM(3, 4))
    with pytest.raises(ValueError, match=r"RecurrentDecoder.*expected a cell.*MultiRNNCell"):
        RecurrentDecoder(3).add(MultiRNNCell([LSTM(3, 3)]))
    d = RecurrentDecoder(3).add(GRU(3, 3, p=0.5))
    with pytest.raises(ValueError, match=r"GRU.*without dropout"):
        d.forward(np.zeros((2, 3), np.float32))
    d = RecurrentDecoder(4).add(LSTM(2, 2))
    y = d.forward(np.ones((3, 2), np.float32))
    assert y.shape == (3, 4, 2)
    np.testing.assert_array_equal(d.get_hidden_state()[0], y[:, -1])


def test_conv_lstm_runs_only_in_recurrent_on_frames():
    with pytest.raises(ValueError, match=r"BiRecurrent.*cell of vectors.*ConvLSTMPeephole"):
        BiRecurrent().add(ConvLSTMPeephole(2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"MultiRNNCell.*ConvLSTMPeephole"):
        MultiRNNCell([ConvLSTMPeephole(2, 3, 3, 3)])
    m = Recurrent().add(ConvLSTMPeephole(2, 3, 3, 3, stride=2, padding=0))
    with pytest.raises(ValueError, match=r"ConvLSTMPeephole.*must keep it"):
        m.forward(np.zeros((1, 2, 2, 9, 9), np.float32))
    m = Recurrent().add(ConvLSTMPeephole(2, 3, 3, 3))
    y = m.forward(np.ones((2, 4, 2, 5, 6), np.float32))
    assert y.shape == (2, 4, 3, 5, 6)
    with pytest.raises(NotImplementedError, match="cRegularizer"):
        from bigdl.optim.optimizer import L2Regularizer
        ConvLSTMPeephole(2, 3, 3, 3, cRegularizer=L2Regularizer(0.1))


def test_init_methods_reach_every_cell_weight():
    from bigdl.nn.initialization_method import ConstInitMethod, Zeros
    for cell in (LSTM(3, 4), GRU(3, 4), LSTMPeephole(3, 4), ConvLSTMPeephole(2, 3, 3, 3)):
        cell.set_init_method(ConstInitMethod(0.25), Zeros())
        for w in cell.get_weights():
            expect = 0.0 if w.ndim == 1 else 0.25
            assert np.all(w == expect), (type(cell).__name__, w.shape)
