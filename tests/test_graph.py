"""The functional graph API: Input, calling layers on nodes, Model(inputs, outputs),
its checks at build time, node(), stop_gradient, freeze by name, the preprocessor form,
and equivalence with the same computation written with containers."""
import numpy as np
import pytest

from bigdl.nn.layer import (CAddTable, ConcatTable, Identity, Input, Layer, Linear, Model, Node, ParallelTable,
                            ReLU, SelectTable, Sequential, Sigmoid, Tanh)


def two_in_two_out():
    """o1 = tanh(L1(a) + L2(b)), o2 = sigmoid(L1(a))."""
    a, b = Input(), Input()
    h1, h2 = Linear(3, 4)(a), Linear(2, 4)(b)
    o1 = Tanh()(CAddTable()([h1, h2]))
    o2 = Sigmoid()(h1)
    return Model([a, b], [o1, o2]), h1.element(), h2.element()


def data(rng, n=5):
    return [rng.randn(n, 3).astype(np.float32), rng.randn(n, 2).astype(np.float32)]


def test_graph_matches_containers():
    rng = np.random.RandomState(0)
    graph, l1, l2 = two_in_two_out()
    c1, c2 = Linear(3, 4), Linear(2, 4)
    c1.set_weights(l1.get_weights())
    c2.set_weights(l2.get_weights())
    seq = Sequential().add(ParallelTable().add(c1).add(c2)).add(
        ConcatTable().add(Sequential().add(CAddTable()).add(Tanh()))
                     .add(Sequential().add(SelectTable(1)).add(Sigmoid())))
    x = data(rng)
    gy = [rng.randn(5, 4).astype(np.float32), rng.randn(5, 4).astype(np.float32)]
    y_g, y_s = graph.forward(x), seq.forward(x)
    for a, b in zip(y_g, y_s):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    graph.zero_grad_parameters()
    seq.zero_grad_parameters()
    gx_g, gx_s = graph.backward(x, gy), seq.backward(x, gy)
    for a, b in zip(gx_g, gx_s):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for g_layer, s_layer in ((l1, c1), (l2, c2)):
        pg, ps = g_layer.parameters()[g_layer.name()], s_layer.parameters()[s_layer.name()]
        for k in ("gradWeight", "gradBias"):
            np.testing.assert_allclose(pg[k], ps[k], rtol=1e-5, atol=1e-6)


def test_single_input_graph_takes_and_returns_arrays():
    x = Input()
    out = ReLU()(Linear(4, 2)(x))
    m = Model(x, out)
    y = m.forward(np.ones((3, 4), np.float32))
    assert isinstance(y, np.ndarray) and y.shape == (3, 2)
    assert m.backward(np.ones((3, 4), np.float32), np.ones((3, 2), np.float32)).shape == (3, 4)


def test_a_node_read_twice_gets_both_gradients():
    x = Input()
    h = Identity()(x)
    m = Model(x, CAddTable()([h, h]))
    xv = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(m.forward(xv), 2 * xv)
    np.testing.assert_array_equal(m.backward(xv, np.ones((2, 3), np.float32)), np.full((2, 3), 2, np.float32))


def test_unreachable_output_names_the_node():
    a = Input()
    orphan = Linear(2, 2)().element().set_name("orphan")
    with pytest.raises(ValueError, match="orphan"):
        Model(a, Tanh()(Node(orphan)))


def test_input_without_path_to_output_names_it():
    a, b = Input(name="used"), Input(name="unused")
    with pytest.raises(ValueError, match="unused.*no path to an output"):
        Model([a, b], Tanh()(a))


def test_duplicate_names_are_refused():
    a = Input()
    h = Linear(2, 2)(a)
    h.element().set_name("twin")
    o = Linear(2, 2)(h)
    o.element().set_name("twin")
    with pytest.raises(ValueError, match="twin"):
        Model(a, o)


def test_wrong_input_arity_is_a_clear_error_and_the_model_stays_usable():
    rng = np.random.RandomState(1)
    graph, _, _ = two_in_two_out()
    with pytest.raises(ValueError, match=r"table of 2 inputs.*\(5, 3\)"):
        graph.forward(data(rng)[0])
    with pytest.raises(ValueError, match="Linear"):
        graph.forward([rng.randn(5, 4).astype(np.float32), rng.randn(5, 2).astype(np.float32)])
    assert len(graph.forward(data(rng))) == 2


def test_node_element_and_edges():
    a = Input()
    lin = Linear(2, 3)
    n = lin(a)
    t = Tanh()(n)
    assert n.element() is lin
    m = Model(a, t)
    assert m.node(lin.name()).element().name() == lin.name()
    with pytest.raises(ValueError, match="no node named"):
        m.node("nope")
    t.remove_pre_edges()
    assert t._prev == [] and n._next == []
    n.remove_next_edges()
    n2 = Sigmoid()(n)
    n.remove_next_edges()
    assert n2._prev == []


def test_stop_gradient_cuts_the_branch():
    rng = np.random.RandomState(2)
    a = Input()
    l1 = Linear(3, 3)
    h = l1(a)
    gate = Identity()(h)
    m = Model(a, Tanh()(gate))
    x = rng.randn(4, 3).astype(np.float32)
    m.stop_gradient([gate.element().name()])
    m.zero_grad_parameters()
    m.forward(x)
    gx = m.backward(x, np.ones((4, 3), np.float32))
    np.testing.assert_array_equal(gx, 0)
    assert not np.any(l1.parameters()[l1.name()]["gradWeight"])


def test_freeze_by_name_in_a_graph():
    rng = np.random.RandomState(3)
    graph, l1, l2 = two_in_two_out()
    before = l1.get_weights()[0].copy()
    graph.freeze([l1.name()])
    graph.zero_grad_parameters()
    x = data(rng)
    graph.forward(x)
    graph.backward(x, [np.ones((5, 4), np.float32)] * 2)
    graph.update_parameters(1.0)
    np.testing.assert_array_equal(l1.get_weights()[0], before)
    graph.unfreeze([l1.name()])
    graph.forward(x)
    graph.backward(x, [np.ones((5, 4), np.float32)] * 2)
    graph.update_parameters(1.0)
    assert not np.array_equal(l1.get_weights()[0], before)


def test_preprocessor_form():
    rng = np.random.RandomState(4)
    pre, trainable = Linear(3, 3), Linear(3, 2)
    m = Model(pre, trainable)
    x = rng.randn(4, 3).astype(np.float32)
    W1, b1 = pre.get_weights()
    W2, b2 = trainable.get_weights()
    np.testing.assert_allclose(m.forward(x), (x @ W1.T + b1) @ W2.T + b2, rtol=1e-5, atol=1e-6)
    m.zero_grad_parameters()
    m.backward(x, np.ones((4, 2), np.float32))
    assert not np.any(pre.parameters()[pre.name()]["gradWeight"])
    assert np.any(trainable.parameters()[trainable.name()]["gradWeight"])


def test_formats_are_accepted_and_checked():
    m, _, _ = two_in_two_out()
    assert m.set_input_formats([7, 7]) is m and m.set_output_formats([7]) is m
    with pytest.raises(ValueError, match="set_input_formats"):
        m.set_input_formats("nchw")


def test_calling_a_layer_on_a_non_node_is_refused():
    with pytest.raises(ValueError, match="Node"):
        Linear(2, 2)(np.ones(2))


@pytest.mark.parametrize("how", ["save", "saveModel", "saveModel+weights"])
def test_save_load_keeps_nodes_and_predictions(tmp_path, how):
    rng = np.random.RandomState(5)
    graph, l1, _ = two_in_two_out()
    path, weights = str(tmp_path / "g.bigdl"), str(tmp_path / "g.weights")
    if how == "save":
        graph.save(path)
        loaded = Layer.load(path)
    elif how == "saveModel":
        graph.saveModel(path)
        loaded = Model.loadModel(path)
    else:
        graph.saveModel(path, weights)
        loaded = Model.loadModel(path, weights)
    assert isinstance(loaded, Model)
    x = data(rng)
    for a, b in zip(loaded.forward(x), graph.forward(x)):
        np.testing.assert_array_equal(a, b)
    assert loaded.node(l1.name()).element().get_weights()[0].shape == (4, 3)
