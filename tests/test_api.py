"""BigDL's T1 Python API: names, argument order and defaults (checked with inspect
against ../shared/spec/bigdl-api.md §1-2), return types, and the small behaviours
scripts rely on (chaining, names, modes, weights, prediction shapes)."""
import inspect
import logging
import pickle

import numpy as np
import pytest

from bigdl.nn import criterion as crit_mod
from bigdl.nn import layer as layer_mod
from bigdl.nn.criterion import (AbsCriterion, BCECriterion, ClassNLLCriterion, CrossEntropyCriterion,
                                MSECriterion)
from bigdl.nn.layer import (Container, Dropout, Identity, Layer, Linear, LogSoftMax, Model, ReLU, Reshape,
                            Sequential, Sigmoid, SoftMax, Tanh, View)
from bigdl.optim import optimizer as optim_mod
from bigdl.optim.optimizer import (MAE, SGD, Adagrad, Adam, EveryEpoch, Loss, MaxEpoch, MaxIteration, MaxScore,
                                   MinLoss, Optimizer, RMSprop, SeveralIteration, Top1Accuracy, Top5Accuracy,
                                   TriggerAnd, TriggerOr)
from bigdl.util import common
from bigdl.util.common import (DOUBLEMAX, INTMAX, INTMIN, RNG, EvaluatedResult, JTensor, Sample,
                               get_node_and_core_number, init_engine, to_list)

REQ = object()  # marks a parameter without default


def params(fn):
    """[(name, default-or-REQ)] in order; *args as ('*name', None); self dropped."""
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.name == "self":
            continue
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            out.append(("*" + p.name, None))
        elif p.kind is inspect.Parameter.VAR_KEYWORD:
            out.append(("**" + p.name, None))
        else:
            out.append((p.name, REQ if p.default is inspect.Parameter.empty else p.default))
    return out


def _same_default(a, b):
    if a is REQ or b is REQ:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a == b


def spec(*items):
    """spec('a', ('b', 1), '*c') -> [(a, REQ), (b, 1), (*c, None)]."""
    out = []
    for it in items:
        if isinstance(it, tuple):
            out.append(it)
        elif it.startswith("*"):
            out.append((it, None))
        else:
            out.append((it, REQ))
    return out


def assert_signature(fn, expected, what):
    got = params(fn)
    names_got = [n for n, _ in got]
    names_want = [n for n, _ in expected]
    assert names_got == names_want, "%s: parameters %s, spec says %s" % (what, names_got, names_want)
    for (n, dg), (_, dw) in zip(got, expected):
        assert _same_default(dg, dw), "%s: default of %s is %r, spec says %r" % (
            what, n, "<required>" if dg is REQ else dg, "<required>" if dw is REQ else dw)


B = ("bigdl_type", "float")

LAYER_METHODS = {
    "forward": spec("input"),
    "backward": spec("input", "grad_output"),
    "zero_grad_parameters": spec(),
    "update_parameters": spec("learning_rate"),
    "reset": spec(),
    "parameters": spec(),
    "get_weights": spec(),
    "set_weights": spec("weights"),
    "is_with_weights": spec(),
    "set_name": spec("name"),
    "name": spec(),
    "set_seed": spec(("seed", 123)),
    "training": spec(("is_training", True)),
    "evaluate": spec("*args"),
    "is_training": spec(),
    "predict": spec("features", ("batch_size", -1)),
    "predict_class": spec("features"),
    "predict_local": spec("X", ("batch_size", -1)),
    "predict_distributed": spec("data_rdd", ("batch_size", -1)),
    "predict_class_local": spec("X"),
    "predict_class_distributed": spec("data_rdd"),
    "save": spec("path", ("over_write", False)),
    "freeze": spec(("names", None)),
    "unfreeze": spec(("names", None)),
}


@pytest.mark.parametrize("method", sorted(LAYER_METHODS))
def test_layer_method_signature(method):
    assert hasattr(Layer, method), "Layer has no method %s" % method
    assert_signature(getattr(Layer, method), LAYER_METHODS[method], "Layer.%s" % method)


@pytest.mark.parametrize("owner", [Layer, Model, Sequential])
def test_load_is_static_with_spec_signature(owner):
    assert isinstance(inspect.getattr_static(Layer, "load"), (staticmethod, classmethod))
    assert_signature(owner.load, spec("path", B), "%s.load" % owner.__name__)


def test_container_method_signatures():
    assert_signature(Container.add, spec("model"), "Container.add")
    assert_signature(Container.flattened_layers, spec(("include_container", False)), "flattened_layers")
    assert isinstance(inspect.getattr_static(Container, "layers"), property)


CONSTRUCTORS = [
    (Linear, spec("input_size", "output_size", ("with_bias", True), ("wRegularizer", None),
                  ("bRegularizer", None), ("init_weight", None), ("init_bias", None),
                  ("init_grad_weight", None), ("init_grad_bias", None), B)),
    (ReLU, spec(("ip", False), B)),
    (Tanh, spec(B)),
    (Sigmoid, spec(B)),
    (SoftMax, spec(B)),
    (LogSoftMax, spec(B)),
    (Dropout, spec(("init_p", 0.5), ("inplace", False), ("scale", True), B)),
    (Identity, spec(B)),
    (Reshape, spec("size", ("batch_mode", None), B)),
    (View, spec("sizes", ("num_input_dims", 0), B)),
    (Sequential, spec(("jvalue", None), B)),
    (ClassNLLCriterion, spec(("weights", None), ("size_average", True), ("logProbAsInput", True), B)),
    (CrossEntropyCriterion, spec(("weights", None), ("size_average", True), B)),
    (MSECriterion, spec(B)),
    (AbsCriterion, spec(("size_average", True), B)),
    (BCECriterion, spec(("weights", None), ("size_average", True), B)),
    (SGD, spec(("learningrate", 1e-3), ("learningrate_decay", 0.0), ("weightdecay", 0.0), ("momentum", 0.0),
               ("dampening", DOUBLEMAX), ("nesterov", False), ("leaningrate_schedule", None),
               ("learningrates", None), ("weightdecays", None), B)),
    (Adam, spec(("learningrate", 1e-3), ("learningrate_decay", 0.0), ("beta1", 0.9), ("beta2", 0.999),
                ("epsilon", 1e-8), B)),
    (Adagrad, spec(("learningrate", 1e-3), ("learningrate_decay", 0.0), ("weightdecay", 0.0), B)),
    (RMSprop, spec(("learningrate", 1e-2), ("learningrate_decay", 0.0), ("decayrate", 0.99), ("epsilon", 1e-8), B)),
    (MaxEpoch, spec("max_epoch", B)),
    (MaxIteration, spec("max", B)),
    (EveryEpoch, spec(B)),
    (SeveralIteration, spec("interval", B)),
    (MaxScore, spec("max", B)),
    (MinLoss, spec("min", B)),
    (TriggerAnd, spec("first", "*other")),
    (TriggerOr, spec("first", "*other")),
    (Top1Accuracy, spec(B)),
    (Top5Accuracy, spec(B)),
    (Loss, spec(("cri", None), B)),
    (MAE, spec(B)),
    (Optimizer, spec("model", "training_rdd", "criterion", "end_trigger", "batch_size", ("optim_method", None), B)),
    (RNG, spec(B)),
    (EvaluatedResult, spec("result", "total_num", "method")),
    (JTensor, spec("storage", "shape", B, ("indices", None))),
    (Sample, spec("features", "labels", B)),
]


@pytest.mark.parametrize("cls,expected", CONSTRUCTORS, ids=[c.__name__ for c, _ in CONSTRUCTORS])
def test_constructor_signature(cls, expected):
    assert_signature(cls, expected, cls.__name__)


FUNCTIONS = [
    (Optimizer.set_validation, spec("batch_size", "val_rdd", "trigger", ("val_method", None))),
    (Sample.from_ndarray, spec("features", "labels", B)),
    (JTensor.from_ndarray, spec("a_ndarray", B)),
    (JTensor.to_ndarray, spec()),
    (RNG.set_seed, spec("seed")),
    (RNG.uniform, spec("a", "b", "size")),
    (init_engine, spec(B)),
    (get_node_and_core_number, spec(B)),
    (to_list, spec("a")),
    (ClassNLLCriterion.forward, spec("input", "target")),
    (ClassNLLCriterion.backward, spec("input", "target")),
]


@pytest.mark.parametrize("fn,expected", FUNCTIONS, ids=[f.__qualname__ for f, _ in FUNCTIONS])
def test_function_signature(fn, expected):
    assert_signature(fn, expected, fn.__qualname__)


@pytest.mark.parametrize("module,names", [
    ("bigdl.nn.layer", ["Layer", "Container", "Sequential", "Model", "Linear", "ReLU", "Tanh", "Sigmoid",
                        "SoftMax", "LogSoftMax", "Dropout", "Identity", "Reshape", "View"]),
    ("bigdl.nn.criterion", ["Criterion", "ClassNLLCriterion", "CrossEntropyCriterion", "MSECriterion",
                            "AbsCriterion", "BCECriterion"]),
    ("bigdl.optim.optimizer", ["Optimizer", "SGD", "Adam", "Adagrad", "RMSprop", "MaxEpoch", "MaxIteration",
                               "EveryEpoch", "SeveralIteration", "MaxScore", "MinLoss", "TriggerAnd",
                               "TriggerOr", "Top1Accuracy", "Top5Accuracy", "Loss", "MAE"]),
    ("bigdl.util.common", ["Sample", "JTensor", "RNG", "EvaluatedResult", "INTMAX", "INTMIN", "DOUBLEMAX",
                           "to_list", "init_engine", "get_node_and_core_number", "create_spark_conf",
                           "get_spark_context", "redire_spark_logs", "show_bigdl_info_logs"]),
])
def test_star_import_brings_bigdl_names(module, names):
    ns = {}
    exec("from %s import *" % module, ns)
    missing = [n for n in names if n not in ns]
    assert not missing, "`from %s import *` lacks %s" % (module, missing)


# Constants and helpers of bigdl.util.common ---------------------------------------------

def test_constants():
    assert INTMAX == 2147483647 and isinstance(INTMAX, int)
    assert INTMIN == -2147483648 and isinstance(INTMIN, int)
    assert DOUBLEMAX == 1.7976931348623157e308 and DOUBLEMAX == np.finfo(np.float64).max


def test_to_list():
    a = [1, 2]
    assert to_list(a) is a
    assert to_list(3) == [3]
    assert to_list("x") == ["x"]


def test_init_engine_and_node_core_number():
    assert init_engine() is None
    nc = get_node_and_core_number()
    assert isinstance(nc, tuple) and len(nc) == 2
    nodes, cores = nc
    assert isinstance(nodes, int) and isinstance(cores, int) and nodes >= 1 and cores >= 1


def test_bigdl_type_double_accepted_other_rejected():
    Linear(2, 2, bigdl_type="double")
    with pytest.raises(Exception, match="Not supported bigdl_type"):
        Linear(2, 2, bigdl_type="int")


# Sample, JTensor, EvaluatedResult, RNG ------------------------------------------------------

def test_sample_scalar_label_becomes_shape_1():
    for label in (2, 2.0, np.float32(2), np.array(2)):
        s = Sample.from_ndarray(np.arange(3, dtype=np.float32), label)
        assert len(s.labels) == 1 and s.label is s.labels[0]
        assert tuple(s.label.shape) == (1,), (label, s.label.shape)
        np.testing.assert_array_equal(s.label.to_ndarray(), np.array([2.0], dtype=np.float32))
        assert len(s.features) == 1 and s.feature is s.features[0]
        np.testing.assert_array_equal(s.feature.to_ndarray(), np.arange(3, dtype=np.float32))


def test_sample_array_label_and_list_features():
    s = Sample.from_ndarray([np.zeros((2, 3)), np.ones(4)], np.array([1.0, 0.0, 1.0]))
    assert [tuple(f.shape) for f in s.features] == [(2, 3), (4,)]
    assert tuple(s.label.shape) == (3,)
    s2 = Sample.from_ndarray(np.zeros(2), [np.array([1.0]), np.array([2.0, 3.0])])
    assert [tuple(l.shape) for l in s2.labels] == [(1,), (2,)]
    assert s.bigdl_type == "float"
    assert str(s).startswith("Sample: features: ")


def test_sample_is_picklable():
    s = Sample.from_ndarray(np.arange(6, dtype=np.float32).reshape(2, 3), 3)
    t = pickle.loads(pickle.dumps(s))
    assert isinstance(t, Sample)
    np.testing.assert_array_equal(t.feature.to_ndarray(), s.feature.to_ndarray())
    np.testing.assert_array_equal(t.label.to_ndarray(), s.label.to_ndarray())
    assert tuple(t.feature.shape) == (2, 3)


def test_jtensor_round_trip():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    t = JTensor.from_ndarray(a)
    assert isinstance(t, JTensor) and t.indices is None
    assert tuple(t.shape) == (3, 4)
    out = t.to_ndarray()
    assert out.dtype == np.float32 and out.shape == (3, 4)
    np.testing.assert_array_equal(out, a.astype(np.float32))
    assert JTensor.from_ndarray(None) is None
    assert tuple(JTensor.from_ndarray(np.array(5.0)).shape) == (1,)
    with pytest.raises(AssertionError):
        JTensor.from_ndarray([1.0, 2.0])


def test_evaluated_result_str():
    r = EvaluatedResult(0.5, 10, "Top1Accuracy")
    assert (r.result, r.total_num, r.method) == (0.5, 10, "Top1Accuracy")
    assert str(r) == "Evaluated result: 0.5, total_num: 10, method: Top1Accuracy"


def test_rng_same_seed_same_numbers_in_range():
    rng = RNG()
    assert rng.set_seed(42) is None
    a = rng.uniform(0.1, 0.2, [4, 5])
    assert isinstance(a, np.ndarray) and a.shape == (4, 5)
    rng.set_seed(42)
    b = RNG().uniform(0.1, 0.2, [4, 5])
    np.testing.assert_array_equal(a, b)
    assert (a >= np.float32(0.1)).all() and (a < np.float32(0.2)).all()
    assert len(np.unique(a)) > 15
    rng.set_seed(43)
    assert not np.array_equal(a, rng.uniform(0.1, 0.2, [4, 5]))
    c = RNG().uniform(-3, 3, [2000])
    assert c.min() >= -3 and c.max() < 3 and c.min() < -2.5 and c.max() > 2.5


# Layer behaviour --------------------------------------------------------------------------

def test_sequential_add_chains_and_lists_layers():
    seq = Sequential()
    lin, sm = Linear(5, 2), LogSoftMax()
    assert seq.add(lin) is seq
    assert seq.add(sm) is seq
    layers = seq.layers
    assert isinstance(layers, list) and [type(l) for l in layers] == [Linear, LogSoftMax]
    assert [l.name() for l in layers] == [lin.name(), sm.name()]
    inner = Sequential().add(Linear(2, 3)).add(ReLU())
    outer = Sequential().add(Linear(4, 2)).add(inner).add(SoftMax())
    assert [type(l) for l in outer.flattened_layers()] == [Linear, Linear, ReLU, SoftMax]
    with_c = outer.flattened_layers(include_container=True)
    assert Sequential in [type(l) for l in with_c] and len(with_c) == 5


def test_set_name_returns_self_and_name_reads_it():
    l = Linear(5, 2)
    assert l.set_name("fc1") is l
    assert l.name() == "fc1"
    assert "fc1" in str(l)


def test_default_names_are_class_plus_unique_suffix():
    layers = [Linear(2, 2) for _ in range(20)] + [ReLU() for _ in range(5)] + [Sequential()]
    names = [l.name() for l in layers]
    assert all(isinstance(n, str) for n in names)
    assert len(set(names)) == len(names), names
    for l, n in zip(layers, names):
        cls = type(l).__name__
        assert n.startswith(cls) and len(n) > len(cls), n


def test_str_is_sensible():
    l = Linear(5, 2)
    s = str(l)
    assert "Linear" in s and "5 -> 2" in s
    seq = Sequential().add(l).add(LogSoftMax())
    assert "Sequential" in str(seq) and "5 -> 2" in str(seq) and "LogSoftMax" in str(seq)
    assert "Dropout" in str(Dropout(0.3))


def test_fresh_layer_is_training_and_modes_toggle():
    l = Linear(3, 2)
    assert l.is_training() is True
    assert l.evaluate() is l
    assert l.is_training() is False
    assert l.training() is l
    assert l.is_training() is True
    assert l.training(False) is l and l.is_training() is False
    assert l.training(is_training=True) is l and l.is_training() is True


def test_modes_propagate_to_children():
    seq = Sequential().add(Linear(3, 2)).add(Dropout(0.5))
    seq.evaluate()
    assert [c.is_training() for c in seq.layers] == [False, False]
    seq.training()
    assert [c.is_training() for c in seq.layers] == [True, True]


def test_get_weights_shapes_and_parameterless():
    l = Linear(5, 3)
    w = l.get_weights()
    assert isinstance(w, list) and len(w) == 2
    assert w[0].shape == (3, 5) and w[1].shape == (3,)
    assert w[0].dtype == np.float32
    assert l.is_with_weights() is True
    assert ReLU().get_weights() is None
    assert ReLU().is_with_weights() is False
    assert Linear(5, 3, with_bias=False).get_weights()[0].shape == (3, 5)
    assert len(Linear(5, 3, with_bias=False).get_weights()) == 1
    seq = Sequential().add(Linear(4, 3)).add(ReLU()).add(Linear(3, 2))
    assert [a.shape for a in seq.get_weights()] == [(3, 4), (3,), (2, 3), (2,)]


def test_get_weights_returns_copies():
    l = Linear(2, 2)
    w = l.get_weights()
    w[0][:] = 99.0
    assert not (l.get_weights()[0] == 99.0).any()


def test_set_weights_round_trip():
    l = Linear(3, 2)
    W = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([7.0, 8.0], dtype=np.float32)
    assert l.set_weights([W, b]) is None
    got = l.get_weights()
    np.testing.assert_array_equal(got[0], W)
    np.testing.assert_array_equal(got[1], b)
    np.testing.assert_array_equal(l.forward(np.array([1.0, 0.0, 0.0], dtype=np.float32)), W[:, 0] + b)
    # ints and float64 are converted
    l.set_weights([np.array([[1, 2, 3], [4, 5, 6]]), np.array([7, 8])])
    np.testing.assert_array_equal(l.get_weights()[0], [[1, 2, 3], [4, 5, 6]])


def test_set_weights_rejects_wrong_count_and_shape():
    l = Linear(3, 2)
    before = l.get_weights()
    with pytest.raises(ValueError):
        l.set_weights([np.zeros((2, 3))])
    with pytest.raises(ValueError):
        l.set_weights([np.zeros((2, 3)), np.zeros(2), np.zeros(2)])
    with pytest.raises(ValueError, match=r"shape"):
        l.set_weights([np.zeros((3, 2)), np.zeros(2)])
    with pytest.raises(ValueError):
        l.set_weights([np.zeros((2, 3)), np.zeros(3)])
    with pytest.raises(ValueError):
        ReLU().set_weights([np.zeros((2, 3)), np.zeros(2)])
    after = l.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after)), "a rejected set_weights changed the weights"


def test_parameters_structure():
    l1, l2 = Linear(4, 3).set_name("a"), Linear(3, 2).set_name("b")
    seq = Sequential().add(l1).add(ReLU()).add(l2)
    p = seq.parameters()
    assert isinstance(p, dict) and set(p) == {"a", "b"}
    assert set(p["a"]) == {"weight", "bias", "gradWeight", "gradBias"}
    assert p["a"]["weight"].shape == (3, 4) and p["a"]["gradWeight"].shape == (3, 4)
    assert p["b"]["bias"].shape == (2,) and p["b"]["gradBias"].shape == (2,)
    np.testing.assert_array_equal(p["a"]["weight"], l1.get_weights()[0])
    assert set(Linear(2, 2, with_bias=False).parameters().popitem()[1]) == {"weight", "gradWeight"}
    assert ReLU().parameters() == {}


def test_zero_grad_and_update_parameters():
    l = Linear(3, 2)
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    w0, b0 = l.get_weights()
    l.zero_grad_parameters()
    l.forward(x)
    assert isinstance(l.backward(x, np.ones((1, 2), dtype=np.float32)), np.ndarray)
    g = next(iter(l.parameters().values()))
    np.testing.assert_allclose(g["gradWeight"], np.tile(x, (2, 1)))
    np.testing.assert_allclose(g["gradBias"], [1.0, 1.0])
    assert l.update_parameters(0.5) is None
    w1, b1 = l.get_weights()
    np.testing.assert_allclose(w1, w0 - 0.5 * np.tile(x, (2, 1)), rtol=1e-6)
    np.testing.assert_allclose(b1, b0 - 0.5, rtol=1e-6)
    assert l.zero_grad_parameters() is None
    g = next(iter(l.parameters().values()))
    assert not g["gradWeight"].any() and not g["gradBias"].any()


def test_reset_returns_self_and_reinitialises():
    l = Linear(10, 4)
    l.set_weights([np.zeros((4, 10)), np.zeros(4)])
    assert l.reset() is l
    W, b = l.get_weights()
    assert W.any() and (np.abs(W) <= 1 / np.sqrt(10) + 1e-6).all()


def test_set_seed_returns_self_and_makes_init_deterministic():
    probe = Identity()
    assert probe.set_seed(7) is probe
    a = Linear(6, 4).get_weights()
    probe.set_seed(7)
    b = Linear(6, 4).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    probe.set_seed(8)
    c = Linear(6, 4).get_weights()
    assert not np.array_equal(a[0], c[0])
    # the default seed is 123, the same as seeding the RNG with 123
    probe.set_seed()
    d = Linear(6, 4).get_weights()
    RNG().set_seed(123)
    e = Linear(6, 4).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(d, e))


def test_forward_and_backward_return_float32_ndarrays():
    l = Linear(3, 2)
    out = l.forward(np.ones((4, 3)))
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (4, 2)
    assert l.forward(np.ones(3)).shape == (2,)
    assert l.forward(JTensor.from_ndarray(np.ones((4, 3)))).shape == (4, 2)
    gi = l.backward(np.ones((4, 3)), np.ones((4, 2)))
    assert isinstance(gi, np.ndarray) and gi.shape == (4, 3) and gi.dtype == np.float32


def test_criterion_forward_returns_float_backward_ndarray():
    c = ClassNLLCriterion()
    x = np.log(np.full((2, 3), 1.0 / 3.0, dtype=np.float32))
    loss = c.forward(x, np.array([1.0, 3.0]))
    assert isinstance(loss, float)
    assert abs(loss - np.log(3.0)) < 1e-5
    g = c.backward(x, np.array([1.0, 3.0]))
    assert isinstance(g, np.ndarray) and g.shape == (2, 3)
    assert isinstance(MSECriterion().forward(np.zeros(3), np.ones(3)), float)


@pytest.mark.parametrize("nargs", [1, 2, 4])
def test_evaluate_with_wrong_arg_count_raises(nargs, samples, logistic_model):
    m = logistic_model()
    args = [samples, 8, [Top1Accuracy()], None][:nargs]
    with pytest.raises(Exception):
        m.evaluate(*args)


def test_evaluate_three_args_returns_evaluated_results(samples, logistic_model):
    m = logistic_model()
    res = m.evaluate(samples, 8, [Top1Accuracy(), Loss()])
    assert isinstance(res, list) and len(res) == 2
    assert all(isinstance(r, EvaluatedResult) for r in res)
    assert [r.method for r in res] == ["Top1Accuracy", "Loss"]
    for r in res:
        assert isinstance(r.result, float) and isinstance(r.total_num, int) and r.total_num == len(samples)
    assert 0.0 < res[0].result < 1.0 and res[1].result > 0.0
    assert str(res[0]).startswith("Evaluated result: ")


def test_evaluated_result_is_a_float_even_when_integral(samples, logistic_model):
    # Two classes: the label is always among the top 5, so Top5Accuracy is exactly 1.0.
    # The spec (1.6) says .result is a float; BigDL prints it as 1.0.
    r = logistic_model().evaluate(samples, 8, [Top5Accuracy()])[0]
    assert r.result == 1.0
    assert isinstance(r.result, float), "result is %r of type %s" % (r.result, type(r.result).__name__)
    assert str(r) == "Evaluated result: 1.0, total_num: 64, method: Top5Accuracy"


def test_evaluate_accepts_method_names_as_strings(samples, logistic_model):
    res = logistic_model().evaluate(samples, 16, ["Top1Accuracy", "Loss"])
    assert [r.method for r in res] == ["Top1Accuracy", "Loss"]


def test_predict_on_ndarray_samples_and_list_of_one_ndarray(blobs, samples, logistic_model):
    X, _ = blobs
    m = logistic_model()
    a = m.predict(X)
    assert isinstance(a, np.ndarray) and a.shape == (len(X), 2) and a.dtype == np.float32
    np.testing.assert_array_equal(m.predict(samples), a)
    np.testing.assert_array_equal(m.predict([X]), a)
    np.testing.assert_array_equal(m.predict(X, batch_size=7), a)
    np.testing.assert_array_equal(m.predict_local(X), a)
    np.testing.assert_allclose(a, m.forward(X), rtol=1e-6, atol=1e-6)


def test_predict_class_returns_one_based_ints(blobs, logistic_model):
    X, _ = blobs
    m = logistic_model()
    W = np.array([[1.0, 0, 0, 0, 0], [-1.0, 0, 0, 0, 0]], dtype=np.float32)
    m.layers[0].set_weights([W, np.zeros(2, dtype=np.float32)])
    c = m.predict_class(X)
    assert isinstance(c, np.ndarray) and c.shape == (len(X),)
    assert np.issubdtype(c.dtype, np.integer)
    assert set(np.unique(c)) <= {1, 2}
    np.testing.assert_array_equal(c, np.where(X[:, 0] > 0, 1, 2))
    np.testing.assert_array_equal(m.predict_class_local(X), c)


def test_predict_uses_evaluation_mode_and_keeps_the_mode(blobs):
    X, _ = blobs
    m = Sequential().add(Linear(5, 8)).add(Dropout(0.5)).add(Linear(8, 2))
    a = m.predict(X)
    np.testing.assert_array_equal(a, m.predict(X))
    assert m.is_training() is True, "predict changed the model's mode"
    m.evaluate()
    np.testing.assert_allclose(a, m.forward(X), rtol=1e-6, atol=1e-6)


def test_freeze_unfreeze_return_self():
    seq = Sequential().add(Linear(2, 2).set_name("x"))
    assert seq.freeze() is seq
    assert seq.unfreeze() is seq
    assert seq.freeze(["x"]) is seq
    assert seq.unfreeze(names=["x"]) is seq


def test_save_returns_none(tmp_path):
    assert Linear(2, 2).save(str(tmp_path / "m.bigdl")) is None
    assert isinstance(Layer.load(str(tmp_path / "m.bigdl")), Linear)


# Optimizer API ----------------------------------------------------------------------------

def test_optimize_returns_the_same_model_object(samples, logistic_model):
    m = logistic_model()
    opt = Optimizer(m, samples, ClassNLLCriterion(), MaxIteration(2), 16)
    assert opt.set_validation(16, samples, EveryEpoch(), [Top1Accuracy()]) is None
    assert opt.optimize() is m


def test_optimizer_keyword_arguments(samples, logistic_model):
    m = logistic_model()
    opt = Optimizer(model=m, training_rdd=samples, criterion=ClassNLLCriterion(), end_trigger=MaxIteration(2),
                    batch_size=16, optim_method=SGD(learningrate=0.1))
    opt.set_validation(batch_size=16, val_rdd=samples, trigger=EveryEpoch(), val_method=[Loss()])
    assert opt.optimize() is m


def test_optim_method_none_means_default_sgd(samples, logistic_model):
    def train(method):
        RNG().set_seed(11)
        m = logistic_model()
        Optimizer(m, samples, ClassNLLCriterion(), MaxIteration(5), 16, method).optimize()
        return m.get_weights()
    a, b = train(None), train(SGD())
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    c = train(SGD(learningrate=0.5))
    assert not np.array_equal(a[0], c[0])


def test_set_validation_default_and_string_methods(samples, logistic_model, caplog):
    caplog.set_level(logging.INFO, logger="bigdl")
    opt = Optimizer(logistic_model(), samples, ClassNLLCriterion(), MaxEpoch(1), 16)
    opt.set_validation(16, samples, EveryEpoch())  # val_method None -> [Top1Accuracy()]
    opt.optimize()
    assert any("Top1Accuracy is Accuracy(" in r.getMessage() for r in caplog.records)
    caplog.clear()
    opt = Optimizer(logistic_model(), samples, ClassNLLCriterion(), MaxEpoch(1), 16)
    opt.set_validation(16, samples, EveryEpoch(), ["Top1Accuracy", "Loss"])
    opt.optimize()
    msgs = [r.getMessage() for r in caplog.records]
    assert any("Top1Accuracy is Accuracy(" in m for m in msgs)
    assert any("Loss is (Loss: " in m for m in msgs)


def test_trigger_and_or_compose(samples, logistic_model, caplog):
    caplog.set_level(logging.INFO, logger="bigdl")

    def last_iteration(end):
        caplog.clear()
        Optimizer(logistic_model(), samples, ClassNLLCriterion(), end, 16).optimize()
        its = [int(m.split("[Iteration ")[1].split("]")[0]) for m in (r.getMessage() for r in caplog.records)
               if "[Iteration " in m]
        return max(its)
    # 64 records, batch 16: 4 iterations per epoch
    assert last_iteration(MaxIteration(7)) == 7
    assert last_iteration(MaxEpoch(3)) == 12
    assert last_iteration(TriggerOr(MaxEpoch(100), MaxIteration(5))) == 5
    assert last_iteration(TriggerAnd(MaxEpoch(1), MaxIteration(10))) == 10


def test_module_level_names_match_spec_modules():
    # the classes live where BigDL put them
    assert Linear.__module__ == layer_mod.__name__ == "bigdl.nn.layer"
    assert ClassNLLCriterion.__module__ == crit_mod.__name__ == "bigdl.nn.criterion"
    assert Optimizer.__module__ == optim_mod.__name__ == "bigdl.optim.optimizer"
    assert Sample.__module__ == common.__name__ == "bigdl.util.common"
