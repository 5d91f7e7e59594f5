"""Recurrent and sequence layers (BigDL's bigdl.nn.layer names, re-exported by bigdl.nn.layer): the
Recurrent container and its cells. A cell runs a whole sequence in the Go core."""
from bigdl.nn.layer import Container, Layer, _not_yet
from bigdl.util.common import DOUBLEMAX

__all__ = ["Recurrent", "RnnCell", "LSTM", "GRU", "TimeDistributed", "LookupTable", "BiRecurrent", "LSTMPeephole", "MultiRNNCell", "RecurrentDecoder", "ConvLSTMPeephole"]

# The activations a cell can apply, by BigDL layer class, as the names BigDL's
# get_activation_by_name takes.
_ACTIVATION_NAMES = {"Tanh": "tanh", "Sigmoid": "sigmoid", "HardSigmoid": "hard_sigmoid", "ReLU": "relu",
                     "SoftMax": "softmax", "SoftPlus": "softplus", "SoftSign": "softsign", "Identity": "linear"}


def _activation_name(act, what, cell, default=None):
    """A cell's activation argument (a layer such as Tanh() or a name such as "tanh") as its name."""
    if act is None:
        if default is None:
            raise ValueError("%s: %s is required (a layer such as Tanh() or a name such as \"tanh\")" % (cell, what))
        return default
    if isinstance(act, str):
        if act not in _ACTIVATION_NAMES.values():
            raise ValueError("%s: %s must be one of %s, got %r" % (cell, what, sorted(_ACTIVATION_NAMES.values()), act))
        return act
    if isinstance(act, Layer):
        desc = act._call("describe")[0]
        name = _ACTIVATION_NAMES.get(desc["class"])
        if desc["class"] == "SoftPlus" and desc["config"].get("beta", 1) != 1:
            name = None
        if name is not None:
            return name
        raise ValueError("%s: %s must be one of %s (or their names), got %s"
                         % (cell, what, sorted(_ACTIVATION_NAMES), act))
    raise ValueError("%s: %s must be a layer or an activation name, got %r" % (cell, what, act))


def _gated_cell(cell, bigdl_type, input_size, hidden_size, p, activation, inner_activation,
                wRegularizer, uRegularizer, bRegularizer):
    """Builds an LSTM or GRU: activation defaults to tanh, inner_activation to sigmoid."""
    what = type(cell).__name__
    Layer.__init__(cell, None, bigdl_type, input_size=input_size, hidden_size=hidden_size, p=p,
                   activation=_activation_name(activation, "activation", what, "tanh"),
                   inner_activation=_activation_name(inner_activation, "inner_activation", what, "sigmoid"))
    cell._set_regularizers(wRegularizer, bRegularizer, uRegularizer)


class Recurrent(Container):
    """Runs its one cell (add(cell)) over every step of a (batch, time, input_size) input from a
    zero state; the output is every step's hidden state, (batch, time, hidden_size)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)

    def get_hidden_state(self):
        """The state after the last step of the last forward: [hidden] ([hidden, cell] for an
        LSTM), each (batch, hidden_size)."""
        return self._call("hidden_state")[1]


class RnnCell(Layer):
    """h' = activation(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh). get_weights(): W_ih (hidden, input),
    b_ih, W_hh (hidden, hidden), b_hh (the biases as the flags keep them)."""

    def __init__(self, input_size, hidden_size, activation, isInputWithBias=True, isHiddenWithBias=True,
                 wRegularizer=None, uRegularizer=None, bRegularizer=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, input_size=input_size, hidden_size=hidden_size,
                         activation=_activation_name(activation, "activation", "RnnCell"),
                         isInputWithBias=isInputWithBias, isHiddenWithBias=isHiddenWithBias)
        self._set_regularizers(wRegularizer, bRegularizer, uRegularizer)


class LSTM(Layer):
    """BigDL's LSTM cell, gates in the order input, cell candidate, forget, output.
    get_weights(): W (4·hidden, input), b (4·hidden), U (4·hidden, hidden), and with p > 0 the
    recurrent biases b_h (4·hidden) BigDL's dropout form has. p drops each gate's copy of the
    input and of the state with a mask drawn per sequence."""

    def __init__(self, input_size, hidden_size, p=0.0, activation=None, inner_activation=None,
                 wRegularizer=None, uRegularizer=None, bRegularizer=None, bigdl_type="float"):
        _gated_cell(self, bigdl_type, input_size, hidden_size, p, activation, inner_activation,
                    wRegularizer, uRegularizer, bRegularizer)


class GRU(Layer):
    """BigDL's GRU cell; the reset gate scales the state before its product with U_n.
    get_weights(): W (3·hidden, input) and b (3·hidden) for the reset, update and candidate
    blocks, U (2·hidden, hidden) for reset and update, U_n (hidden, hidden)."""

    def __init__(self, input_size, hidden_size, p=0.0, activation=None, inner_activation=None,
                 wRegularizer=None, uRegularizer=None, bRegularizer=None, bigdl_type="float"):
        _gated_cell(self, bigdl_type, input_size, hidden_size, p, activation, inner_activation,
                    wRegularizer, uRegularizer, bRegularizer)


class TimeDistributed(Container):
    """Applies model to every time step of a (batch, time, ...) input: it runs once on
    (batch·time, ...), and its output is unfolded to (batch, time, ...)."""

    def __init__(self, model, bigdl_type="float"):
        super().__init__(None, bigdl_type)
        self.add(model)


class LookupTable(Layer):
    """An embedding: each 1-based index (a float from 1 to n_index) of a (T,) or (batch, T)
    input selects a row of the weight (n_index, n_output). Indices equal to padding_value get
    no gradient; max_norm rescales the selected rows (in place) to at most that norm_type
    norm; should_scale_grad_by_freq divides a row's gradient by its index's count in the
    batch. The weight starts N(0, 1)."""

    def __init__(self, n_index, n_output, padding_value=0.0, max_norm=DOUBLEMAX, norm_type=2.0,
                 should_scale_grad_by_freq=False, wRegularizer=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, n_index=n_index, n_output=n_output, padding_value=padding_value,
                         max_norm=max_norm, norm_type=norm_type, should_scale_grad_by_freq=should_scale_grad_by_freq)
        self._set_regularizers(wRegularizer)


class BiRecurrent(Container):
    """Runs its cell (add(cell)) over a (batch, time, input_size) sequence forwards and a copy
    of it (its own weights, starting equal) backwards, and merges the two (batch, time, hidden)
    outputs with merge: by default their sum (BigDL's CAddTable), or a layer of the table
    [forward, backward], e.g. JoinTable(3, 3) to concatenate them."""

    def __init__(self, merge=None, bigdl_type="float"):
        super().__init__(None, bigdl_type)
        if merge is not None:
            self.add(merge)


class LSTMPeephole(Layer):
    """BigDL's LSTM with peepholes: the input and forget gates also see the previous cell
    state, the output gate the new one. get_weights(): W (4·hidden, input), b (4·hidden),
    U (4·hidden, hidden) in the gate order input, forget, cell, output, then the peephole
    weights of the input, forget and output gates, (hidden,) each."""

    def __init__(self, input_size=4, hidden_size=3, p=0.0, wRegularizer=None, uRegularizer=None, bRegularizer=None,
                 bigdl_type="float"):
        super().__init__(None, bigdl_type, input_size=input_size, hidden_size=hidden_size, p=p)
        self._set_regularizers(wRegularizer, bRegularizer, uRegularizer)


class MultiRNNCell(Container):
    """A stack of cells, each reading the output of the one below at every step; a cell of
    Recurrent. get_hidden_state() of its Recurrent lists every cell's states, bottom up."""

    def __init__(self, cells, bigdl_type="float"):
        super().__init__(None, bigdl_type)
        for cell in cells:
            self.add(cell)


class RecurrentDecoder(Recurrent):
    """Runs its cell output_length steps from a (batch, input_size) input: step 1 reads it,
    every later step the previous step's output (so the cell's input size must be its hidden
    size). The output is every step's hidden state, (batch, output_length, hidden_size)."""

    def __init__(self, output_length, bigdl_type="float"):
        Container.__init__(self, None, bigdl_type, output_length=output_length)


class ConvLSTMPeephole(Layer):
    """A convolutional LSTM with peepholes, the cell of a Recurrent over (batch, time,
    input_size, H, W) sequences: kernel_i convolves the input, kernel_c the state
    (output_size, H', W'); padding -1 is SAME. get_weights(): the input convolution
    (1, 4·output_size, input_size, kernel_i, kernel_i) and its bias, the state convolution
    (1, 4·output_size, output_size, kernel_c, kernel_c), gate blocks input, forget, cell,
    output; then, with_peephole, the input, forget and output gates' per-channel peepholes
    (1, output_size, 1, 1)."""

    def __init__(self, input_size, output_size, kernel_i, kernel_c, stride=1, padding=-1, activation=None,
                 inner_activation=None, wRegularizer=None, uRegularizer=None, bRegularizer=None, cRegularizer=None,
                 with_peephole=True, bigdl_type="float"):
        if cRegularizer is not None:
            _not_yet("ConvLSTMPeephole cRegularizer")
        super().__init__(None, bigdl_type, input_size=input_size, output_size=output_size, kernel_i=kernel_i,
                         kernel_c=kernel_c, stride=stride, padding=padding,
                         activation=_activation_name(activation, "activation", "ConvLSTMPeephole", "tanh"),
                         inner_activation=_activation_name(inner_activation, "inner_activation", "ConvLSTMPeephole",
                                                           "sigmoid"),
                         with_peephole=with_peephole)
        self._set_regularizers(wRegularizer, bRegularizer, uRegularizer)
