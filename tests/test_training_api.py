"""The training API beyond SGD: bad Samples, schedules, optim methods,
clipping, initialisation methods, LocalOptimizer and Optimizer.create."""
import numpy as np
import pytest

from bigdl.util.common import Sample


@pytest.mark.parametrize("features,labels,arg", [
    (None, 1, "features"),
    ([[1.0, 2.0], [3.0]], 1, "features"),
    (["a", "b"], 1, "features"),
    (np.ones(3), None, "labels"),
    (np.ones(3), "one", "labels"),
    (np.ones(3), [[1.0], [2.0, 3.0]], "labels"),
])
def test_bad_samples_raise_at_once_naming_the_argument(features, labels, arg):
    with pytest.raises(ValueError, match=arg):
        Sample.from_ndarray(features, labels)


def test_a_list_of_numbers_is_one_tensor():
    s = Sample.from_ndarray([1.0, 2.0, 3.0], 2)
    assert len(s.features) == 1 and s.feature.to_ndarray().tolist() == [1.0, 2.0, 3.0]
    assert s.label.to_ndarray().tolist() == [2.0]


# Schedules -------------------------------------------------------------------

from bigdl.nn.criterion import MSECriterion  # noqa: E402
from bigdl.nn.layer import Linear, ReLU  # noqa: E402
from bigdl.optim.optimizer import (SGD, Exponential, MaxIteration, MultiStep, NaturalExp, Optimizer,  # noqa: E402
                                   Plateau, Poly, SequentialSchedule, Step, Warmup)


def _square_run(method, iterations, w0=1.0):
    """Trains w on loss w² (one record, batch 1): each step is w -= lr_t · 2w."""
    model = Linear(1, 1, with_bias=False)
    model.set_weights([np.array([[w0]], dtype=np.float32)])
    X, Y = np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32)
    Optimizer(model, (X, Y), MSECriterion(), MaxIteration(iterations), 1, method).optimize()
    return float(model.get_weights()[0][0, 0])


@pytest.mark.parametrize("schedule,rate", [
    (Step(2, 0.5), lambda t: 0.1 * 0.5 ** (t // 2)),
    (Poly(0.5, 6), lambda t: 0.1 * (1 - t / 6) ** 0.5 if t <= 6 else 0.0),
    (MultiStep([1, 3], 0.2), lambda t: 0.1 * 0.2 ** sum(t >= s for s in [1, 3])),
    (Exponential(3, 0.5), lambda t: 0.1 * 0.5 ** (t / 3)),
    (NaturalExp(2, 0.3), lambda t: 0.1 * np.exp(-0.3 * (t // 2))),
    (Warmup(0.01), lambda t: 0.1 + 0.01 * t),
])
def test_sgd_follows_its_schedule(schedule, rate):
    w = np.float32(1.0)
    for t in range(7):
        w = np.float32(w - np.float32(rate(t)) * np.float32(2) * w)
    got = _square_run(SGD(learningrate=0.1, leaningrate_schedule=schedule), 7)
    assert got == pytest.approx(float(w), rel=1e-5)


def test_sequential_schedule_trains():
    s = SequentialSchedule(5).add(Warmup(0.05), 2).add(Step(1, 0.5), 10)
    got = _square_run(SGD(learningrate=0.1, leaningrate_schedule=s), 5)
    top = 0.1 + 0.05 * 2
    w = 1.0
    for r in [0.1, 0.15, 0.2, top * 0.5, top * 0.25]:
        w -= r * 2 * w
    assert got == pytest.approx(w, rel=1e-5)


def test_plateau_on_the_loss_cuts_the_rate():
    # The loss w² keeps falling: Plateau(mode="max") sees no improvement and
    # cuts the rate every epoch (patience 0), so training slows down.
    plain = _square_run(SGD(learningrate=0.1), 6, w0=1.0)
    cut = _square_run(SGD(learningrate=0.1, leaningrate_schedule=Plateau("Loss", factor=0.5, patience=0,
                                                                           mode="max")), 6, w0=1.0)
    assert abs(cut) > abs(plain)


@pytest.mark.parametrize("make,arg", [
    (lambda: Step(0, 0.5), "step_size"),
    (lambda: Step(-3, 0.5), "step_size"),
    (lambda: Exponential(0, 0.5), "decay_step"),
    (lambda: NaturalExp(-1, 0.5), "decay_step"),
    (lambda: Poly(1.0, 0), "max_iteration"),
    (lambda: MultiStep([4, 2], 0.5), "step_sizes"),
    (lambda: SequentialSchedule(0), "iteration_per_epoch"),
    (lambda: SequentialSchedule(3).add(Step(1, 0.5), 0), "max_iteration"),
    (lambda: Plateau("accuracy"), "monitor"),
    (lambda: SGD(leaningrate_schedule="step"), "leaningrate_schedule"),
    (lambda: SGD(leaningrate_schedule=SequentialSchedule(3)), "leaningrate_schedule"),
])
def test_bad_schedules_raise_at_once(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


# Optim methods -----------------------------------------------------------------

from bigdl.optim.optimizer import Adadelta, Adamax, Ftrl, ParallelAdam  # noqa: E402

f32 = np.float32


def _ref_adadelta(dr=0.9, eps=1e-10):
    st = {}

    def step(x, g):
        v = st.setdefault("v", np.zeros_like(x))
        acc = st.setdefault("acc", np.zeros_like(x))
        v[:] = v * f32(dr) + f32(1 - dr) * g * g
        d = np.sqrt(acc + f32(eps)) / np.sqrt(v + f32(eps)) * g
        acc[:] = acc * f32(dr) + f32(1 - dr) * d * d
        return x - d
    return step


def _ref_adamax(lr=0.002, b1=0.9, b2=0.999, eps=1e-38):
    st = {"t": 0}

    def step(x, g):
        m = st.setdefault("m", np.zeros_like(x))
        u = st.setdefault("u", np.zeros_like(x))
        st["t"] += 1
        m[:] = m * f32(b1) + f32(1 - b1) * g
        u[:] = np.maximum(u * f32(b2), np.abs(g) + f32(eps))
        return x - f32(lr / (1 - b1 ** st["t"])) * m / u
    return step


def _ref_adam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    st = {"t": 0}

    def step(x, g):
        m = st.setdefault("m", np.zeros_like(x))
        v = st.setdefault("v", np.zeros_like(x))
        st["t"] += 1
        m[:] = f32(b1) * m + f32(1 - b1) * g
        v[:] = f32(b2) * v + f32(1 - b2) * g * g
        a = f32(lr * np.sqrt(1 - b2 ** st["t"]) / (1 - b1 ** st["t"]))
        return x - a * m / (np.sqrt(v) + f32(eps))
    return step


def _ref_ftrl(lr=1e-3, power=-0.5, init=0.1, l1=0.0, l2=0.0, shrink=0.0):
    st = {}

    def step(x, g):
        accum = st.setdefault("accum", np.full_like(x, init))
        linear = st.setdefault("linear", np.zeros_like(x))
        g = g + f32(2 * shrink) * x if shrink > 0 else g
        new = accum + g * g
        linear += g + (accum ** f32(-power) - new ** f32(-power)) / f32(lr) * x
        quad = f32(1 / lr) * new ** f32(-power) + f32(2 * l2)
        x = np.where(np.abs(linear) > l1, (np.sign(linear) * f32(l1) - linear) / quad, f32(0))
        accum[:] = new
        return x.astype(np.float32)
    return step


def _regression_problem(n_in=4):
    rs = np.random.RandomState(3)
    x = rs.randn(1, n_in).astype(np.float32)
    y = np.array([[0.7]], dtype=np.float32)
    w0 = (rs.randn(1, n_in) * 0.5).astype(np.float32)
    return x, y, w0


@pytest.mark.parametrize("method,reference", [
    (lambda: Adadelta(), _ref_adadelta()),
    (lambda: Adadelta(decayrate=0.5, epsilon=1e-4), _ref_adadelta(0.5, 1e-4)),
    (lambda: Adamax(), _ref_adamax()),
    (lambda: Adamax(learningrate=0.05, beta1=0.8, beta2=0.99, epsilon=1e-6), _ref_adamax(0.05, 0.8, 0.99, 1e-6)),
    (lambda: ParallelAdam(learningrate=0.01, parallel_num=4), _ref_adam(0.01)),
    (lambda: Ftrl(learningrate=0.1), _ref_ftrl(0.1)),
    (lambda: Ftrl(learningrate=0.1, l1_regularization_strength=0.01, l2_regularization_strength=0.1),
     _ref_ftrl(0.1, l1=0.01, l2=0.1)),
    (lambda: Ftrl(learningrate=0.1, learningrate_power=-0.3, l2_shrinkage_regularization_strength=0.2),
     _ref_ftrl(0.1, power=-0.3, shrink=0.2)),
])
def test_optim_method_matches_numpy_step_by_step(method, reference):
    """Loss (w·x - y)² on one record: the gradient is 2(w·x - y)x. Each
    optimize() runs one more iteration (the method's iteration counter goes on, as
    BigDL's does); the method keeps its state between them."""
    x, y, w = _regression_problem()
    model = Linear(4, 1, with_bias=False)
    model.set_weights([w])
    opt = Optimizer(model, (x, y), MSECriterion(), MaxIteration(1), 1, method())
    for step in range(6):
        g = (f32(2) * (x @ w.T - y) * x).astype(np.float32)
        w = reference(w, g)
        opt.set_end_when(MaxIteration(step + 1))
        opt.optimize()
        np.testing.assert_allclose(model.get_weights()[0], w, rtol=2e-5, atol=1e-6, err_msg="step %d" % step)


@pytest.mark.parametrize("method", [
    lambda: Adadelta(decayrate=0.9, epsilon=1e-3), lambda: Adamax(learningrate=0.05),
    lambda: ParallelAdam(learningrate=0.05), lambda: Ftrl(learningrate=0.5),
])
def test_optim_method_converges_on_a_convex_problem(method, blobs, logistic_model):
    from bigdl.nn.criterion import ClassNLLCriterion
    from bigdl.optim.optimizer import MaxEpoch, Top1Accuracy
    X, y = blobs
    model = logistic_model()
    from bigdl.optim.optimizer import Loss
    before = model.evaluate((X, y), 64, [Loss()])[0].result
    Optimizer(model, (X, y), ClassNLLCriterion(), MaxEpoch(30), 8, method()).optimize()
    after, acc = [r.result for r in model.evaluate((X, y), 64, [Loss(), Top1Accuracy()])]
    assert after < 0.5 * before and acc >= 0.95


@pytest.mark.parametrize("make,arg", [
    (lambda: Ftrl(learningrate_power=0.5), "learningrate_power"),
    (lambda: Ftrl(l1_regularization_strength=-1), "l1_regularization_strength"),
    (lambda: Ftrl(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    (lambda: ParallelAdam(parallel_num=0), "parallel_num"),
    (lambda: Adadelta(decayrate="fast"), "decayrate"),
])
def test_bad_optim_method_arguments_raise(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


# Gradient clipping --------------------------------------------------------------

def _clipped_square_run(setup, w0=3.0, lr=0.1, iterations=3):
    model = Linear(1, 1, with_bias=False)
    model.set_weights([np.array([[w0]], dtype=np.float32)])
    X, Y = np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32)
    opt = Optimizer(model, (X, Y), MSECriterion(), MaxIteration(iterations), 1, SGD(learningrate=lr))
    setup(opt)
    opt.optimize()
    return float(model.get_weights()[0][0, 0])


def test_gradclip_l2norm_rescales_the_gradient():
    # The gradient 2w has norm 2|w| > 1 throughout, so each step moves w by lr.
    assert _clipped_square_run(lambda o: o.set_gradclip_l2norm(1.0)) == pytest.approx(3.0 - 3 * 0.1, rel=1e-6)


def test_gradclip_const_clamps_each_element():
    assert _clipped_square_run(lambda o: o.set_gradclip_const(-0.5, 0.5)) == pytest.approx(3.0 - 3 * 0.05, rel=1e-6)


def test_disable_gradclip_restores_plain_sgd():
    def setup(o):
        o.set_gradclip_const(-0.5, 0.5)
        o.set_gradclip_l2norm(1.0)
        o.disable_gradclip()
    assert _clipped_square_run(setup) == pytest.approx(3.0 * 0.8 ** 3, rel=1e-6)


@pytest.mark.parametrize("call,arg", [
    (lambda o: o.set_gradclip_const(1.0, -1.0), "min_value"),
    (lambda o: o.set_gradclip_const("a", 1.0), "min_value"),
    (lambda o: o.set_gradclip_l2norm(0), "clip_norm"),
    (lambda o: o.set_gradclip_l2norm(float("nan")), "clip_norm"),
])
def test_bad_clipping_raises(call, arg):
    opt = Optimizer(Linear(1, 1), (np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32)), MSECriterion(),
                    MaxIteration(1), 1)
    with pytest.raises(ValueError, match=arg):
        call(opt)


# Regularizers ---------------------------------------------------------------------

from bigdl.optim.optimizer import L1L2Regularizer, L1Regularizer, L2Regularizer  # noqa: E402


def test_backward_adds_the_regularizers_gradient():
    rs = np.random.RandomState(0)
    layer = Linear(4, 3, wRegularizer=L1L2Regularizer(0.1, 0.2), bRegularizer=L2Regularizer(0.5))
    w, b = [rs.randn(*a.shape).astype(np.float32) for a in layer.get_weights()]
    w[0, 0] = 0.0  # sign(0) is 0
    layer.set_weights([w, b])
    x, gy = rs.randn(2, 4).astype(np.float32), rs.randn(2, 3).astype(np.float32)
    layer.forward(x)
    layer.backward(x, gy)
    p = layer.parameters()[layer.name()]
    np.testing.assert_allclose(p["gradWeight"], gy.T @ x + 0.1 * np.sign(w) + 0.2 * w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p["gradBias"], gy.sum(0) + 0.5 * b, rtol=1e-5, atol=1e-6)


def test_regularizer_in_training_follows_the_formula():
    model = Linear(1, 1, wRegularizer=L1Regularizer(0.3), bRegularizer=L2Regularizer(0.5))
    model.set_weights([np.array([[2.0]], np.float32), np.array([1.0], np.float32)])
    X, Y = np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32)
    Optimizer(model, (X, Y), MSECriterion(), MaxIteration(3), 1, SGD(learningrate=0.1)).optimize()
    w, b = 2.0, 1.0
    for _ in range(3):
        r = 2 * (w + b)
        w, b = w - 0.1 * (r + 0.3 * np.sign(w)), b - 0.1 * (r + 0.5 * b)
    got = model.get_weights()
    assert float(got[0][0, 0]) == pytest.approx(w, rel=1e-5)
    assert float(got[1][0]) == pytest.approx(b, rel=1e-5)


def test_set_regularizers_after_construction_and_they_survive_save(tmp_path):
    from bigdl.nn.layer import Layer
    layer = Linear(3, 2)
    layer.setWRegularizer(L2Regularizer(0.25))
    layer.setBRegularizer(L1Regularizer(0.5))
    layer.save(str(tmp_path / "m.bigdl"))
    loaded = Layer.load(str(tmp_path / "m.bigdl"))
    x, gy = np.ones((1, 3), np.float32), np.zeros((1, 2), np.float32)
    loaded.forward(x)
    loaded.backward(x, gy)
    w, b = loaded.get_weights()
    p = loaded.parameters()[loaded.name()]
    np.testing.assert_allclose(p["gradWeight"], 0.25 * w, rtol=1e-6)
    np.testing.assert_allclose(p["gradBias"], 0.5 * np.sign(b), rtol=1e-6)
    layer.setWRegularizer(None)  # removes it


@pytest.mark.parametrize("call,arg", [
    (lambda: Linear(2, 2, wRegularizer=0.1), "wRegularizer"),
    (lambda: Linear(2, 2, bRegularizer="l2"), "bRegularizer"),
    (lambda: Linear(2, 2, with_bias=False, bRegularizer=L2Regularizer(0.1)), "bRegularizer"),
    (lambda: Linear(2, 2).setURegularizer(L2Regularizer(0.1)), "uRegularizer"),
    (lambda: L2Regularizer(-1.0), "rates"),
    (lambda: L1Regularizer("a"), "l1"),
    (lambda: ReLU().setWRegularizer(L2Regularizer(0.1)), "wRegularizer"),
])
def test_bad_regularizers_raise_at_once(call, arg):
    with pytest.raises(ValueError, match=arg):
        call()



def test_activity_regularization_adds_its_penalty_gradient():
    from bigdl.optim.optimizer import ActivityRegularization
    layer = ActivityRegularization(0.1, 0.25)
    x = np.array([[1.5, -2.0, 0.0]], np.float32)
    gy = np.array([[1.0, 1.0, 1.0]], np.float32)
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_allclose(layer.backward(x, gy), gy + 0.1 * np.sign(x) + 0.5 * x, rtol=1e-6)
    with pytest.raises(ValueError, match="l1"):
        ActivityRegularization(-1.0, 0.0)


# LocalOptimizer, Optimizer.create, DistriOptimizer ---------------------------------

import sys  # noqa: E402

sys.path.insert(0, str(__import__("conftest").LECTURE_DIR))
from _data import blobs as lecture_blobs  # noqa: E402

from bigdl.nn.criterion import ClassNLLCriterion  # noqa: E402
from bigdl.nn.layer import LogSoftMax, Sequential  # noqa: E402
from bigdl.optim.optimizer import (DistriOptimizer, EveryEpoch, LocalOptimizer, Loss, MaxEpoch,  # noqa: E402
                                   Top1Accuracy)


def _lecture_data():
    return [lecture_blobs(n, 5, 2, seed) for seed, n in enumerate((800, 200, 200))]


def _lecture_model():
    return Sequential().add(Linear(5, 2)).add(LogSoftMax())


def _check_lecture_accuracy(model, test):
    X, y = test
    loss, acc = [r.result for r in model.evaluate((X, y.astype(np.float32)), 16, [Loss(), Top1Accuracy()])]
    # The lecture script's own bars (a numpy reference reaches 0.19 and 0.91).
    assert loss < 0.23 and acc >= 0.88, (loss, acc)


@pytest.mark.parametrize("cores", [1, 2])
def test_local_optimizer_trains_the_lecture_model(cores, caplog):
    (X, y), (Xv, yv), test = _lecture_data()
    model = _lecture_model()
    opt = LocalOptimizer(X, y.astype(np.float32), model, ClassNLLCriterion(), MaxEpoch(20), 16,
                         SGD(learningrate=0.05), cores=cores)
    opt.set_validation(16, Xv, yv.astype(np.float32), EveryEpoch(), [Loss()])
    with caplog.at_level("INFO", logger="bigdl"):
        assert opt.optimize() is model
    assert sum("Loss is (Loss:" in r.getMessage() for r in caplog.records) == 20
    _check_lecture_accuracy(model, test)
    pred = model.predict_class_local(test[0])
    assert pred.dtype == np.int64 and np.mean(pred == test[1]) >= 0.88
    assert model.predict_local(test[0]).shape == (200, 2)


def test_optimizer_create_on_arrays_gives_a_local_optimizer():
    (X, y), _, test = _lecture_data()
    model = _lecture_model()
    opt = Optimizer.create(model, (X, y.astype(np.float32)), ClassNLLCriterion(), MaxEpoch(20), 16,
                           SGD(learningrate=0.05), cores=2)
    assert isinstance(opt, LocalOptimizer)
    opt.optimize()
    _check_lecture_accuracy(model, test)


def test_optimizer_create_defaults_to_one_epoch_of_sgd():
    (X, y), _, _ = _lecture_data()
    model = _lecture_model()
    opt = Optimizer.create(model, (X, y.astype(np.float32)), ClassNLLCriterion())
    assert isinstance(opt.optim_method, SGD)
    before = model.get_weights()[0].copy()
    opt.optimize()
    assert not np.array_equal(before, model.get_weights()[0])


def test_distri_optimizer_is_bigdls_name_for_the_optimizer(samples, logistic_model):
    opt = DistriOptimizer(logistic_model(), samples, ClassNLLCriterion(), MaxEpoch(2), 8)
    assert isinstance(opt, Optimizer)
    opt.optimize()


@pytest.mark.parametrize("call,arg", [
    (lambda m, X, y: Optimizer.create(m, [X, y], ClassNLLCriterion()), "training_set"),
    (lambda m, X, y: Optimizer.create(m, "data", ClassNLLCriterion()), "training_set"),
    (lambda m, X, y: LocalOptimizer(X, y, m, ClassNLLCriterion(), MaxEpoch(1), 16, cores=0), "cores"),
    (lambda m, X, y: LocalOptimizer([X, X], y, m, ClassNLLCriterion(), MaxEpoch(1), 16), "multi-input"),
    (lambda m, X, y: LocalOptimizer(X, list(y), m, ClassNLLCriterion(), MaxEpoch(1), 16), "Y"),
    (lambda m, X, y: LocalOptimizer(X, y, m, ClassNLLCriterion(), MaxEpoch(1), 16).set_validation(
        16, X, None, EveryEpoch()), "Y_val"),
])
def test_bad_local_optimizer_arguments_raise(call, arg):
    (X, y), _, _ = _lecture_data()
    with pytest.raises(ValueError, match=arg):
        call(_lecture_model(), X, y.astype(np.float32))


# LBFGS --------------------------------------------------------------------------------

from bigdl.optim.optimizer import LBFGS  # noqa: E402


def _ref_lbfgs(lr=1.0, ncorrection=100, tolfun=1e-5, tolx=1e-9):
    """BigDL's LBFGS with a function that returns the mini-batch's loss and
    gradient whatever the point: one step per call."""
    st = {"n": 0, "dirs": [], "stps": [], "hdiag": 1.0, "t": lr}

    def step(x, g):
        x, g = x.ravel().astype(np.float64), g.ravel().astype(np.float64)
        if np.abs(g).sum() < tolfun:
            return x
        if "d" not in st:
            st["d"] = -g
        st["n"] += 1
        if st["n"] != 1:
            y, s = g - st["g_old"], st["d"] * st["t"]
            ys = y @ s
            if ys > 1e-10:
                if len(st["dirs"]) == ncorrection:
                    st["dirs"].pop(0)
                    st["stps"].pop(0)
                st["dirs"].append(s)
                st["stps"].append(y)
                st["hdiag"] = ys / (y @ y)
            k = len(st["dirs"])
            ro = [1 / (st["stps"][i] @ st["dirs"][i]) for i in range(k)]
            q, al = -g, [0.0] * k
            for i in reversed(range(k)):
                al[i] = (st["dirs"][i] @ q) * ro[i]
                q = q - al[i] * st["stps"][i]
            r = q * st["hdiag"]
            for i in range(k):
                r = r + (al[i] - (st["stps"][i] @ r) * ro[i]) * st["dirs"][i]
            st["d"] = r
        st["g_old"] = g
        if g @ st["d"] > -tolx:
            return x
        st["t"] = min(1.0, 1.0 / np.abs(g).sum()) * lr if st["n"] == 1 else lr
        return x + st["t"] * st["d"]
    return step


@pytest.mark.parametrize("ncorrection", [100, 2])
def test_lbfgs_matches_numpy_step_by_step(ncorrection):
    rs = np.random.RandomState(8)
    X = rs.randn(1, 4).astype(np.float32)
    y = np.array([[0.3]], np.float32)
    w = (rs.randn(1, 4) * 0.5).astype(np.float32)
    model = Linear(4, 1, with_bias=False)
    model.set_weights([w])
    ref = _ref_lbfgs(lr=0.1, ncorrection=ncorrection)
    opt = Optimizer(model, (X, y), MSECriterion(), MaxIteration(1), 1, LBFGS(learningrate=0.1, ncorrection=ncorrection))
    wr = w.astype(np.float64)
    for step in range(8):
        # Each step a different record, so the gradient change carries curvature.
        X = rs.randn(1, 4).astype(np.float32)
        opt._training_data, opt._train_arrays = (X, y), None
        g = 2 * (X @ wr.reshape(4, 1) - y) * X
        wr = ref(wr, g).reshape(1, 4)
        opt.set_end_when(MaxIteration(step + 1))
        opt.optimize()
        np.testing.assert_allclose(model.get_weights()[0], wr, rtol=1e-4, atol=1e-5, err_msg="step %d" % step)


def test_lbfgs_converges_on_a_convex_problem(blobs, logistic_model):
    X, y = blobs
    model = logistic_model()
    before = model.evaluate((X, y), 64, [Loss()])[0].result
    Optimizer(model, (X, y), ClassNLLCriterion(), MaxEpoch(10), 64, LBFGS(learningrate=0.5)).optimize()
    after, acc = [r.result for r in model.evaluate((X, y), 64, [Loss(), Top1Accuracy()])]
    assert after < 0.5 * before and acc >= 0.95


@pytest.mark.parametrize("kw", [{"linesearch": "lswolfe"}, {"linesearch_options": {"c1": 1e-4}}])
def test_lbfgs_line_search_raises(kw):
    with pytest.raises(ValueError, match="linesearch"):
        LBFGS(**kw)


# HitRatio, NDCG, TreeNNAccuracy ----------------------------------------------------

from bigdl.nn.layer import Identity  # noqa: E402
from bigdl.optim.optimizer import NDCG, HitRatio, TreeNNAccuracy  # noqa: E402


def _ranking_reference(scores, groups, k, ndcg):
    out = []
    for g in scores.reshape(groups, -1):
        rank = 1 + int((g > g[0]).sum())
        out.append(0.0 if rank > k else (np.log(2) / np.log(rank + 1) if ndcg else 1.0))
    return float(np.mean(out))


@pytest.mark.parametrize("batch", [1, 7, 11, 64])
@pytest.mark.parametrize("method,ndcg", [(HitRatio, False), (NDCG, True)])
def test_ranking_metrics_group_records_across_batches(batch, method, ndcg):
    """One score per record; groups of neg_num + 1 = 11 records, the positive
    first; evaluation batches of any size never split a group's ranking."""
    rs = np.random.RandomState(1)
    groups, neg = 9, 10
    scores = rs.rand(groups * (neg + 1), 1).astype(np.float32)
    scores[::neg + 1] += np.linspace(-0.3, 0.6, groups, dtype=np.float32)[:, None]
    labels = np.zeros(len(scores), np.float32)
    r = Identity().evaluate((scores, labels), batch, [method(k=3, neg_num=neg)])[0]
    assert r.total_num == groups
    assert r.result == pytest.approx(_ranking_reference(scores, groups, 3, ndcg), rel=1e-6)


def test_ranking_metric_finds_the_positive_by_its_label():
    scores = np.array([[0.1], [0.9], [0.5], [0.4], [0.8], [0.7]], np.float32)  # two groups of 3
    labels = np.array([0, 1, 0, 0, 0, 1], np.float32)  # the positives: 0.9 (rank 1), 0.7 (rank 2)
    hr = Identity().evaluate((scores, labels), 4, [HitRatio(k=1, neg_num=2), NDCG(k=2, neg_num=2)])
    assert hr[0].result == pytest.approx(0.5)
    assert hr[1].result == pytest.approx((1 + np.log(2) / np.log(3)) / 2, rel=1e-6)


def test_ranking_metric_refuses_a_partial_group():
    scores = np.random.RandomState(0).rand(10, 1).astype(np.float32)
    with pytest.raises(Exception, match="whole group"):
        Identity().evaluate((scores, np.zeros(10, np.float32)), 4, [HitRatio(k=2, neg_num=3)])


def test_tree_nn_accuracy_reads_the_root():
    out = np.zeros((4, 3, 2), np.float32)
    out[:, 0, :] = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]]  # roots predict 1, 2, 1, 2
    out[:, 1:, :] = [0.0, 5.0]  # other nodes would say 2
    labels = np.array([[1, 9], [2, 9], [2, 9], [2, 9]], np.float32)
    r = Identity().evaluate((out, labels), 3, [TreeNNAccuracy()])[0]
    assert (r.result, r.total_num, r.method) == (0.75, 4, "TreeNNAccuracy")


@pytest.mark.parametrize("make,arg", [(lambda: HitRatio(k=0), "k"), (lambda: NDCG(neg_num=-1), "neg_num")])
def test_bad_ranking_arguments_raise(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


# optim_method as a dict per submodule -----------------------------------------------

from bigdl.optim.optimizer import Adam  # noqa: E402
from bigdl.util.common import RNG  # noqa: E402


def _named_mlp(seed=3):
    RNG().set_seed(seed)
    return (Sequential().add(Linear(5, 8).set_name("fc1")).add(ReLU())
            .add(Linear(8, 2).set_name("fc2")).add(LogSoftMax()))


def _train(model, method, data, epochs=3, freeze=None):
    X, y = data
    if freeze:
        model.freeze(freeze)
    Optimizer(model, (X, y), ClassNLLCriterion(), MaxEpoch(epochs), 16, method).optimize()
    return model.get_weights()


def test_each_submodule_trains_with_its_own_method(blobs):
    start = _named_mlp().get_weights()
    split = _train(_named_mlp(), {"fc1": SGD(learningrate=0.0), "fc2": SGD(learningrate=0.1)}, blobs)
    frozen = _train(_named_mlp(), SGD(learningrate=0.1), blobs, freeze="fc1")
    np.testing.assert_array_equal(split[0], start[0])
    for a, b in zip(split, frozen):
        np.testing.assert_array_equal(a, b)
    same = _train(_named_mlp(), {"fc1": Adam(learningrate=0.01), "fc2": Adam(learningrate=0.01)}, blobs)
    whole = _train(_named_mlp(), Adam(learningrate=0.01), blobs)
    for a, b in zip(same, whole):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_per_submodule_state_carries_over_between_optimize_calls(blobs):
    def twice(make):
        m = _named_mlp()
        methods = make()
        for _ in range(2):
            _train(m, methods, blobs, epochs=1)
        return m.get_weights()
    per = twice(lambda: {"fc1": Adam(learningrate=0.01), "fc2": Adam(learningrate=0.01)})
    whole = twice(lambda: Adam(learningrate=0.01))
    m = _named_mlp()
    for _ in range(2):  # fresh methods each time: their state starts over
        _train(m, {"fc1": Adam(learningrate=0.01), "fc2": Adam(learningrate=0.01)}, blobs, epochs=1)
    for a, b in zip(per, whole):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(m.get_weights()[0], per[0], rtol=1e-4)


@pytest.mark.parametrize("methods,match", [
    ({"fc1": SGD(), "fc3": SGD()}, "fc3"),
    ({"fc1": SGD()}, "fall under no submodule"),
    ({"fc1": SGD(), "fc2": "sgd"}, "fc2"),
    ({"fc1": SGD(), "fc2": LBFGS()}, "LBFGS"),
    ({}, "empty"),
])
def test_bad_optim_method_dicts_raise_naming_the_submodule(blobs, methods, match):
    with pytest.raises(ValueError, match=match):
        _train(_named_mlp(), methods, blobs, epochs=1)


def test_plateau_on_the_score_needs_validation(blobs, logistic_model):
    X, y = blobs
    opt = Optimizer(logistic_model(), (X, y), ClassNLLCriterion(), MaxEpoch(3), 16,
                    SGD(learningrate=0.1, leaningrate_schedule=Plateau("score", mode="max")))
    with pytest.raises(ValueError, match="set_validation"):
        opt.optimize()
    opt.set_validation(16, (X, y), EveryEpoch(), [Top1Accuracy()])
    opt.optimize()
