"""Criteria: forward value and backward against numpy (float64) references
(spec §2.5, §3.6, §5.3), for 1-D (single sample) and 2-D inputs, targets as
(N,) or (N, 1), plus finite-difference checks of every backward."""
import numpy as np
import pytest

from bigdl.nn.criterion import AbsCriterion, BCECriterion, ClassNLLCriterion, CrossEntropyCriterion, MSECriterion

import _reference as ref
from _reference import assert_close, rand32

TOL = ref.TOL


@pytest.fixture
def rng():
    return np.random.RandomState(7)


def assert_loss(ours, want, what="loss"):
    assert isinstance(ours, float), "%s: forward returned %r, expected a Python float" % (what, type(ours))
    assert abs(ours - want) <= TOL * abs(want), "%s: %r, expected %r" % (what, ours, want)


def log_probs(rng, n, c):
    return ref.log_softmax(rand32(rng, n, c) * 3).astype(np.float32)


def labels(rng, n, c):
    t = rng.randint(1, c + 1, size=n).astype(np.float32)
    t[0], t[-1] = 1, c  # both ends of the 1-based range
    return t


# ClassNLLCriterion ----------------------------------------------------------

NLL_CONFIGS = [
    ("plain", dict()),
    ("sum", dict(size_average=False)),
    ("weighted", dict(weights=np.array([0.2, 1.0, 3.0, 0.5, 2.5], dtype=np.float32))),
    ("weighted_sum", dict(weights=np.array([0.2, 1.0, 3.0, 0.5, 2.5], dtype=np.float32), size_average=False)),
]


@pytest.mark.parametrize("target_shape", ["N", "Nx1"])
@pytest.mark.parametrize("name,kw", NLL_CONFIGS, ids=[c[0] for c in NLL_CONFIGS])
def test_class_nll_2d(rng, name, kw, target_shape):
    n, c = 9, 5
    x = log_probs(rng, n, c)
    t = labels(rng, n, c)
    tt = t.reshape(n, 1) if target_shape == "Nx1" else t
    crit = ClassNLLCriterion(**kw)
    want_loss, want_grad = ref.class_nll(x, t, kw.get("weights"), kw.get("size_average", True))
    assert_loss(crit.forward(x, tt), want_loss, "ClassNLL(%s) forward" % name)
    assert_close(crit.backward(x, tt), want_grad, what="ClassNLL(%s) backward" % name)


def test_class_nll_weighted_formula_by_hand():
    # loss = -Σ w[t_i] x[i, t_i] / Σ w[t_i]
    x = np.array([[-1.0, -2.0, -3.0], [-0.5, -1.5, -2.5]], dtype=np.float32)
    t = np.array([3, 1], dtype=np.float32)
    w = np.array([2.0, 1.0, 4.0], dtype=np.float32)
    assert_loss(ClassNLLCriterion(w).forward(x, t), (4 * 3 + 2 * 0.5) / (4 + 2))
    assert_loss(ClassNLLCriterion(w, size_average=False).forward(x, t), 4 * 3 + 2 * 0.5)
    g = ClassNLLCriterion(w).backward(x, t)
    assert_close(g, [[0, 0, -4 / 6.0], [-2 / 6.0, 0, 0]])


@pytest.mark.parametrize("target", ["int", "float", "0d", "1elem"])
@pytest.mark.parametrize("name,kw", NLL_CONFIGS, ids=[c[0] for c in NLL_CONFIGS])
def test_class_nll_1d_single_sample(rng, name, kw, target):
    c = 5
    x = log_probs(rng, 1, c)[0]
    label = 4
    tt = {"int": label, "float": float(label), "0d": np.array(label, dtype=np.float32),
          "1elem": np.array([label], dtype=np.float32)}[target]
    crit = ClassNLLCriterion(**kw)
    want_loss, want_grad = ref.class_nll(x, [label], kw.get("weights"), kw.get("size_average", True))
    assert_loss(crit.forward(x, tt), want_loss, "ClassNLL(%s) 1-D forward" % name)
    g = crit.backward(x, tt)
    assert g.shape == (c,)
    assert_close(g, want_grad, what="ClassNLL(%s) 1-D backward" % name)


@pytest.mark.parametrize("size_average", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_class_nll_probabilities_as_input(rng, weighted, size_average):
    n, c = 8, 4
    p = ref.softmax(rand32(rng, n, c) * 2).astype(np.float32)
    t = labels(rng, n, c)
    w = np.array([1.0, 0.5, 2.0, 3.0], dtype=np.float32) if weighted else None
    crit = ClassNLLCriterion(w, size_average, logProbAsInput=False)
    want_loss, want_grad = ref.class_nll(p, t, w, size_average, log_prob_as_input=False)
    assert_loss(crit.forward(p, t), want_loss, "ClassNLL(logProbAsInput=False) forward")
    assert_close(crit.backward(p, t), want_grad, what="ClassNLL(logProbAsInput=False) backward")
    # the same loss as feeding log(p) with logProbAsInput=True
    same = ClassNLLCriterion(w, size_average).forward(np.log(p), t)
    assert abs(crit.forward(p, t) - same) <= 1e-5 * abs(same)


def test_class_nll_rejects_zero_based_labels(rng):
    x = log_probs(rng, 3, 4)
    with pytest.raises(Exception):
        ClassNLLCriterion().forward(x, np.array([0, 1, 2], dtype=np.float32))
    with pytest.raises(Exception):
        ClassNLLCriterion().forward(x, np.array([1, 2, 5], dtype=np.float32))


# CrossEntropyCriterion ------------------------------------------------------

CE_CONFIGS = [
    ("plain", dict()),
    ("sum", dict(size_average=False)),
    ("weighted", dict(weights=np.array([0.3, 2.0, 1.0, 4.0], dtype=np.float32))),
    ("weighted_sum", dict(weights=np.array([0.3, 2.0, 1.0, 4.0], dtype=np.float32), size_average=False)),
]


@pytest.mark.parametrize("target_shape", ["N", "Nx1"])
@pytest.mark.parametrize("name,kw", CE_CONFIGS, ids=[c[0] for c in CE_CONFIGS])
def test_cross_entropy_2d(rng, name, kw, target_shape):
    n, c = 10, 4
    x = rand32(rng, n, c) * 4
    t = labels(rng, n, c)
    tt = t.reshape(n, 1) if target_shape == "Nx1" else t
    crit = CrossEntropyCriterion(**kw)
    want_loss, want_grad = ref.cross_entropy(x, t, kw.get("weights"), kw.get("size_average", True))
    assert_loss(crit.forward(x, tt), want_loss, "CrossEntropy(%s) forward" % name)
    assert_close(crit.backward(x, tt), want_grad, what="CrossEntropy(%s) backward" % name)


@pytest.mark.parametrize("name,kw", CE_CONFIGS, ids=[c[0] for c in CE_CONFIGS])
def test_cross_entropy_1d(rng, name, kw):
    x = rand32(rng, 4) * 4
    crit = CrossEntropyCriterion(**kw)
    want_loss, want_grad = ref.cross_entropy(x, [2], kw.get("weights"), kw.get("size_average", True))
    assert_loss(crit.forward(x, 2), want_loss, "CrossEntropy(%s) 1-D forward" % name)
    assert_close(crit.backward(x, 2), want_grad, what="CrossEntropy(%s) 1-D backward" % name)


def test_cross_entropy_large_scores_stay_finite(rng):
    x = (rand32(rng, 3, 5) + np.float32(200)).astype(np.float32)
    t = np.array([1, 5, 3], dtype=np.float32)
    want_loss, want_grad = ref.cross_entropy(x, t)
    assert_loss(CrossEntropyCriterion().forward(x, t), want_loss)
    assert_close(CrossEntropyCriterion().backward(x, t), want_grad)


# MSECriterion, AbsCriterion -------------------------------------------------

SHAPES = [(6,), (1, 1), (5, 1), (4, 3), (3, 2, 4)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_mse(rng, shape):
    x, y = rand32(rng, *shape) * 2, rand32(rng, *shape) * 2
    want_loss, want_grad = ref.mse(x, y)
    crit = MSECriterion()
    assert_loss(crit.forward(x, y), want_loss, "MSE forward")
    assert_close(crit.backward(x, y), want_grad, what="MSE backward")


def test_mse_divides_by_element_count_not_batch():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    y = np.zeros((2, 3), dtype=np.float32)
    assert_loss(MSECriterion().forward(x, y), 91.0 / 6)


def test_mse_target_n_for_n_by_1_output(rng):
    # a (N,) target for an (N, 1) output: the same values, the same loss
    x = rand32(rng, 6, 1)
    y = rand32(rng, 6)
    want_loss, want_grad = ref.mse(x, y.reshape(6, 1))
    assert_loss(MSECriterion().forward(x, y), want_loss)
    assert_close(MSECriterion().backward(x, y), want_grad)


@pytest.mark.parametrize("size_average", [True, False])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_abs(rng, shape, size_average):
    x, y = rand32(rng, *shape) * 2, rand32(rng, *shape) * 2
    want_loss, want_grad = ref.abs_crit(x, y, size_average)
    crit = AbsCriterion(size_average)
    assert_loss(crit.forward(x, y), want_loss, "Abs forward")
    assert_close(crit.backward(x, y), want_grad, what="Abs backward")


# BCECriterion ---------------------------------------------------------------

@pytest.mark.parametrize("size_average", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(5,), (6, 5), (1, 5)], ids=str)
def test_bce(rng, shape, weighted, size_average):
    x = rand32(rng, *shape, lo=0.05, hi=0.95)
    y = (rng.uniform(size=shape) < 0.5).astype(np.float32)
    w = rand32(rng, shape[-1], lo=0.1, hi=3.0) if weighted else None
    want_loss, want_grad = ref.bce(x, y, w, size_average)
    crit = BCECriterion(w, size_average)
    assert_loss(crit.forward(x, y), want_loss, "BCE forward")
    assert_close(crit.backward(x, y), want_grad, what="BCE backward")


def test_bce_soft_targets(rng):
    x = rand32(rng, 4, 3, lo=0.1, hi=0.9)
    y = rand32(rng, 4, 3, lo=0.0, hi=1.0)
    want_loss, want_grad = ref.bce(x, y)
    assert_loss(BCECriterion().forward(x, y), want_loss)
    assert_close(BCECriterion().backward(x, y), want_grad)


def test_bce_saturated_probabilities_stay_finite():
    x = np.array([0.0, 1.0, 0.5], dtype=np.float32)
    y = np.array([0.0, 1.0, 1.0], dtype=np.float32)
    loss = BCECriterion().forward(x, y)
    assert np.isfinite(loss) and abs(loss - np.log(2) / 3) < 1e-5
    assert np.all(np.isfinite(BCECriterion().backward(x, y)))


# Finite differences of every criterion ---------------------------------------

def _fd(crit, x, t, eps=1e-3, tol=1e-2):
    g = crit.backward(x, t)
    numeric = ref.numeric_grad(lambda xx: crit.forward(xx, t), x, eps)
    assert_close(g, numeric, tol=tol, what="%s backward vs finite differences" % type(crit).__name__)


FD_CASES = [
    ("ClassNLL", lambda: ClassNLLCriterion(), "logp"),
    ("ClassNLLweighted", lambda: ClassNLLCriterion(np.array([0.5, 2.0, 1.0], dtype=np.float32)), "logp"),
    ("ClassNLLprob", lambda: ClassNLLCriterion(logProbAsInput=False), "prob"),
    ("CrossEntropy", lambda: CrossEntropyCriterion(), "scores"),
    ("CrossEntropyWeightedSum", lambda: CrossEntropyCriterion(np.array([0.5, 2.0, 1.0], dtype=np.float32), False),
     "scores"),
    ("MSE", lambda: MSECriterion(), "regression"),
    ("Abs", lambda: AbsCriterion(), "regression"),
    ("AbsSum", lambda: AbsCriterion(False), "regression"),
    ("BCE", lambda: BCECriterion(), "binary"),
    ("BCEweighted", lambda: BCECriterion(np.array([0.5, 2.0, 1.0], dtype=np.float32), False), "binary"),
]


@pytest.mark.parametrize("name,make,kind", FD_CASES, ids=[c[0] for c in FD_CASES])
def test_criterion_finite_differences(rng, name, make, kind):
    n, c = 4, 3
    t = np.array([1, 3, 2, 3], dtype=np.float32)
    if kind == "logp":
        x = log_probs(rng, n, c)
    elif kind == "prob":
        x = ref.softmax(rand32(rng, n, c)).astype(np.float32)
    elif kind == "scores":
        x = rand32(rng, n, c) * 2
    elif kind == "regression":
        x = rand32(rng, n, c)
        t = x + ref.away_from_zero(rng, n, c, margin=0.1)  # keep |x - t| off Abs's kink
    else:
        x = rand32(rng, n, c, lo=0.2, hi=0.8)
        t = (rng.uniform(size=(n, c)) < 0.5).astype(np.float32)
    _fd(make(), x, t)
