"""One harness for every layer and criterion: each check below runs on every row of
_layer_rows.py, so adding a layer adds rows there, not a test file.

Checks: forward and backward against PyTorch (autograd) or, where PyTorch lacks the
operation, a numpy forward and finite differences; batched and unbatched inputs; a
save/load round trip with identical outputs; the parameter shapes, and the fan-in and fan-out
BigDL initialises from (the default draw and a seeded Xavier draw); the regularizer and init arguments of BigDL's signature; a clear error
for a bad input, after which the interpreter stays usable."""
import inspect

import numpy as np
import pytest
import torch

from bigdl.nn.initialization_method import Xavier, Zeros
from bigdl.nn.layer import Layer, Model
from bigdl.util.common import RNG

from _conv_rows import CONV_LAYERS
from _rnn_rows import RNN_LAYERS, SEQUENCE_CRITERIA, SEQUENCE_LAYERS
from _layer_rows import CRITERIA, LAYERS
from _reference import BigDLStream, rel_err

TOL = 1e-4

LAYERS = LAYERS + CONV_LAYERS + RNN_LAYERS + SEQUENCE_LAYERS
CRITERIA = CRITERIA + SEQUENCE_CRITERIA


def leaves(a):
    if isinstance(a, (list, tuple)):
        return [x for e in a for x in leaves(e)]
    return [a]


def nest_map(f, a):
    if isinstance(a, (list, tuple)):
        return [nest_map(f, e) for e in a]
    return f(a)


def assert_close(ours, ref, what):
    ours, ref = leaves(ours), leaves(ref)
    assert len(ours) == len(ref), "%s: %d tensors, expected %d" % (what, len(ours), len(ref))
    for i, (o, r) in enumerate(zip(ours, ref)):
        o, r = np.asarray(o), np.asarray(r, dtype=np.float64)
        assert o.shape == r.shape, "%s[%d]: shape %s, expected %s" % (what, i, o.shape, r.shape)
        e = rel_err(o, r)
        assert e <= TOL, "%s[%d]: relative error %.3g > %g" % (what, i, e, TOL)


def torch_ref(row, layer, x, gy):
    """PyTorch's output, input gradient and weight gradients for row's ref."""
    xt = nest_map(lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True), x)
    weights = layer.get_weights() if layer.is_with_weights() else []
    wt = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    arg = xt if isinstance(xt, list) else xt
    y = row.ref(arg, *wt)
    ys = leaves(y)
    loss = sum((yi * torch.tensor(g, dtype=torch.float64)).sum() for yi, g in zip(ys, leaves(gy)))
    loss.backward()
    gx = nest_map(lambda t: t.grad.numpy() if t.grad is not None else np.zeros(t.shape), xt)
    return nest_map(lambda t: t.detach().numpy(), y), gx, [w.grad.numpy() for w in wt]


def finite_difference(layer, x, gy, eps=1e-2):
    """d(Σ gy·forward(x))/dx by central differences, in float64 sums."""
    def proj():
        return sum(float(np.sum(np.float64(o) * g)) for o, g in zip(leaves(layer.forward(x)), leaves(gy)))
    grads = []
    for a in leaves(x):
        g = np.zeros(a.shape)
        flat, gf = a.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            lp = proj()
            flat[i] = old - eps
            lm = proj()
            flat[i] = old
            gf[i] = (lp - lm) / (2 * eps)
        grads.append(g)
    return grads


def random_like(rng, y):
    return nest_map(lambda a: rng.uniform(-1, 1, size=np.shape(a)).astype(np.float32), y)


def check_forward_backward(row, make_x):
    rng = np.random.RandomState(7)
    layer = row.make()
    x = make_x(rng)
    y = layer.forward(x)
    gy = random_like(rng, y)
    if hasattr(layer, "zero_grad_parameters"):
        layer.zero_grad_parameters()
    layer.forward(x)
    gx = layer.backward(x, gy)
    if row.ref is not None:
        y_ref, gx_ref, gw_ref = torch_ref(row, layer, x, gy)
        assert_close(y, y_ref, "%s forward" % row.name)
        assert_close(gx, gx_ref, "%s gradInput" % row.name)
        if gw_ref:
            assert_close(layer._call("get_grads")[1], gw_ref, "%s parameter gradients" % row.name)
    else:
        assert_close(y, row.np_ref(x), "%s forward" % row.name)
        fd = finite_difference(layer, x, gy)
        assert_close(gx, fd, "%s gradInput (finite differences)" % row.name)


@pytest.mark.parametrize("row", LAYERS, ids=repr)
def test_forward_backward_batched(row):
    check_forward_backward(row, row.x)


@pytest.mark.parametrize("row", [r for r in LAYERS if r.x1 is not None], ids=repr)
def test_forward_backward_unbatched(row):
    check_forward_backward(row, row.x1)


def save_and_load(layer, tmp_path, how):
    """layer written and read back by save/load, or saveModel/loadModel in one file or two."""
    path, weights = str(tmp_path / "model.bigdl"), str(tmp_path / "model.weights")
    if how == "save":
        layer.save(path)
        return Layer.load(path)
    if how == "saveModel":
        layer.saveModel(path)
        return Model.loadModel(path)
    layer.saveModel(path, weights)
    return Model.loadModel(path, weights)


@pytest.mark.parametrize("how", ["save", "saveModel", "saveModel+weights"])
@pytest.mark.parametrize("row", LAYERS, ids=repr)
def test_save_load_round_trip(row, how, tmp_path):
    rng = np.random.RandomState(8)
    layer = row.make()
    x = row.x(rng)
    loaded = save_and_load(layer, tmp_path, how)
    assert type(loaded) is type(layer)
    for a, b in zip(leaves(loaded.forward(x)), leaves(layer.forward(x))):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("row", LAYERS, ids=repr)
def test_parameter_shapes_and_fan_in(row):
    layer = row.make()
    weights = layer.get_weights() if layer.is_with_weights() else []
    assert [w.shape for w in weights] == row.params
    if row.fan is not None:
        # BigDL's default initialisation draws from U(-1/√fan_in, 1/√fan_in).
        bound = 1 / np.sqrt(row.fan[0])
        w = weights[0]
        assert np.all(np.abs(w) <= bound) and np.abs(w).max() > 0.5 * bound


@pytest.mark.parametrize("row", [r for r in LAYERS if r.fan is not None], ids=repr)
def test_fan_in_and_fan_out_drive_xavier(row):
    # Xavier draws U(-√(6/(fan_in+fan_out)), +√(…)) from the global stream, weight first, so a seeded
    # draw pins both fans exactly (the default initialisation above only shows fan-in).
    layer = row.make()
    RNG().set_seed(11)
    assert layer.set_init_method(Xavier(), Zeros()) is layer
    fan_in, fan_out = row.init_fans
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    w = layer.get_weights()[0]
    np.testing.assert_array_equal(w, BigDLStream(11).uniform(-bound, bound, w.size).reshape(w.shape))


@pytest.mark.parametrize("row", [r for r in LAYERS if r.init_args], ids=repr)
def test_regularizer_and_init_arguments(row):
    cls = type(row.make())
    sig = inspect.signature(cls.__init__)
    for name in row.init_args:
        assert name in sig.parameters, "%s lacks BigDL's argument %s" % (cls.__name__, name)
        assert sig.parameters[name].default is None


@pytest.mark.parametrize("row", [r for r in LAYERS if r.bad is not None], ids=repr)
def test_bad_input_raises_naming_layer_and_shapes(row):
    rng = np.random.RandomState(9)
    layer = row.make()
    make_bad, words = row.bad
    with pytest.raises(ValueError) as e:
        layer.forward(make_bad(rng))
    for w in words:
        assert w in str(e.value), "%r lacks %r" % (str(e.value), w)
    # The interpreter and the layer stay usable.
    assert layer.forward(row.x(rng)) is not None


@pytest.mark.parametrize("row", CRITERIA, ids=repr)
def test_criterion_forward_backward(row):
    rng = np.random.RandomState(10)
    crit = row.make()
    x, t = row.data(rng)
    loss = crit.forward(x, t)
    gx = crit.backward(x, t)
    xt = nest_map(lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True), x)
    ref = row.ref(xt, nest_map(lambda a: torch.tensor(a, dtype=torch.float64), t))
    ref.backward()
    assert abs(loss - ref.item()) <= TOL * max(1, abs(ref.item())), "%s: loss %r, expected %r" % (row.name, loss, ref.item())
    assert_close(gx, nest_map(lambda a: a.grad.numpy(), xt), "%s gradient" % row.name)


@pytest.mark.parametrize("row", [r for r in CRITERIA if r.bad is not None], ids=repr)
def test_criterion_bad_input(row):
    crit = row.make()
    x, t = row.bad[0](np.random.RandomState(11))
    with pytest.raises(ValueError) as e:
        crit.forward(x, t)
    for w in row.bad[1]:
        assert w in str(e.value), "%r lacks %r" % (str(e.value), w)


ODD_INPUTS = [np.float32(1.0) * np.ones(()), np.ones(1, np.float32), np.ones((0, 3), np.float32),
              np.ones((2, 1, 1), np.float32), [], [np.ones(()), np.ones(())], [[np.ones(2)]], [np.ones(2), [np.ones(2)]]]


@pytest.mark.parametrize("row", LAYERS, ids=repr)
def test_odd_inputs_work_or_raise_value_errors(row):
    """Scalars, empty batches, empty and nested tables: each either works or is a ValueError
    (never an internal error), and the layer works afterwards."""
    layer = row.make()
    for x in ODD_INPUTS:
        try:
            y = layer.forward(x)
            layer.backward(x, y)
        except ValueError:
            pass
    assert layer.forward(row.x(np.random.RandomState(12))) is not None
