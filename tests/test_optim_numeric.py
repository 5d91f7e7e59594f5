"""Optim methods verified numerically through training (spec §5.4), and
validation numbers from model.evaluate (spec §1.6, §2.6, §5.3).

Training uses the whole data set as one mini-batch (batch_size = N), so each
iteration's gradient is the full-batch gradient whatever order the records
are shuffled into, and a float64 numpy loop can replay the run exactly.
"""
import numpy as np
import pytest

from bigdl.nn.criterion import AbsCriterion, ClassNLLCriterion, CrossEntropyCriterion, MSECriterion
from bigdl.nn.layer import Linear, LogSoftMax, Sequential, SoftMax
from bigdl.optim.optimizer import (MAE, SGD, Adagrad, Adam, Loss, MaxEpoch, MaxIteration, Optimizer, RMSprop,
                                   Top1Accuracy, Top5Accuracy)
from bigdl.util.common import Sample

import _reference as ref
from _reference import assert_close, rand32

N, D_IN, D_OUT = 16, 3, 1
W0 = np.array([[0.5, -0.3, 0.8]], dtype=np.float32)
B0 = np.array([0.1], dtype=np.float32)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(3)
    X = rand32(rng, N, D_IN) * 2
    Y = (X @ np.array([[1.5], [-2.0], [0.7]], dtype=np.float32) + np.float32(0.3)
         + rand32(rng, N, D_OUT) * np.float32(0.1)).astype(np.float32)
    return X, Y


def train(method, X, Y, iterations, W=W0, b=B0, d_out=D_OUT, labels_shape=None, end=None):
    model = Linear(X.shape[1], d_out)
    model.set_weights([W, b])
    Yt = Y if labels_shape is None else Y.reshape(labels_shape)
    opt = Optimizer(model=model, training_rdd=(X, Yt), criterion=MSECriterion(),
                    end_trigger=end or MaxIteration(iterations), batch_size=X.shape[0], optim_method=method)
    trained = opt.optimize()
    assert trained is model or trained.value == model.value
    return model.get_weights()


def check(method, ref_method, data, iterations, tol=1e-5, what=""):
    X, Y = data
    W, b = train(method, X, Y, iterations)
    W_ref, b_ref = ref.train_linear_mse(W0, B0, X, Y, ref_method, iterations)
    # the step itself (final − initial) must match, not only the final weights
    moved_ours = np.concatenate([ref.f64(W).ravel() - W0.ravel(), ref.f64(b) - B0])
    moved_ref = np.concatenate([W_ref.ravel() - W0.ravel(), b_ref - B0])
    assert np.linalg.norm(moved_ref) > 1e-2, "test set-up: the reference barely moved"
    assert_close(moved_ours, moved_ref, tol=20 * tol, what="%s displacement of the weights" % what)
    assert_close(W, W_ref, tol=tol, what="%s weight" % what)
    assert_close(b, b_ref, tol=tol, what="%s bias" % what)


# SGD ------------------------------------------------------------------------

SGD_CASES = [
    ("plain", dict(learningrate=0.1)),
    ("lr_decay", dict(learningrate=0.2, learningrate_decay=0.5)),
    ("weightdecay", dict(learningrate=0.1, weightdecay=0.3)),
    ("momentum_default_dampening", dict(learningrate=0.1, momentum=0.9)),
    ("momentum_dampening_0", dict(learningrate=0.05, momentum=0.9, dampening=0.0)),
    ("momentum_dampening_0.3", dict(learningrate=0.05, momentum=0.5, dampening=0.3)),
    ("nesterov", dict(learningrate=0.05, momentum=0.9, dampening=0.0, nesterov=True)),
    ("everything", dict(learningrate=0.08, learningrate_decay=0.1, weightdecay=0.05, momentum=0.7,
                        dampening=0.0, nesterov=True)),
    ("everything_default_dampening", dict(learningrate=0.1, learningrate_decay=0.2, weightdecay=0.01, momentum=0.6)),
]


@pytest.mark.parametrize("name,kw", SGD_CASES, ids=[c[0] for c in SGD_CASES])
@pytest.mark.parametrize("iterations", [1, 7])
def test_sgd_update_rule(data, name, kw, iterations):
    check(SGD(**kw), ref.SGDRef(**kw), data, iterations, what="SGD(%s)" % name)


def test_sgd_per_parameter_learningrates_and_weightdecays(data):
    # flattened parameter order: W row-major, then b (the get_weights order)
    lrs = np.array([0.1, 0.02, 0.3, 0.05], dtype=np.float32)
    wds = np.array([0.0, 0.5, 0.1, 0.2], dtype=np.float32)
    kw = dict(learningrate=0.5, learningrates=lrs, weightdecays=wds)
    check(SGD(**kw), ref.SGDRef(**kw), data, 6, what="SGD(learningrates, weightdecays)")


def test_sgd_default_method_is_sgd_lr_1e_3(data):
    X, Y = data
    model = Linear(3, 1)
    model.set_weights([W0, B0])
    Optimizer(model=model, training_rdd=(X, Y), criterion=MSECriterion(), end_trigger=MaxIteration(5),
              batch_size=N).optimize()
    W_ref, b_ref = ref.train_linear_mse(W0, B0, X, Y, ref.SGDRef(learningrate=1e-3), 5)
    W, b = model.get_weights()
    assert_close(ref.f64(W) - W0, W_ref - W0, tol=1e-3, what="default SGD displacement")


def test_sgd_labels_shaped_n_or_n_by_1_train_alike(data):
    X, Y = data
    a = train(SGD(learningrate=0.1), X, Y, 4, labels_shape=(N, 1))
    b = train(SGD(learningrate=0.1), X, Y, 4, labels_shape=(N,))
    for u, v in zip(a, b):
        assert_close(u, v, tol=1e-6)


def test_sgd_max_epoch_counts_full_batches(data):
    # with batch_size = N one epoch is one iteration: MaxEpoch(5) ≡ MaxIteration(5)
    X, Y = data
    kw = dict(learningrate=0.1, momentum=0.5)
    W, b = train(SGD(**kw), X, Y, None, end=MaxEpoch(5))
    W_ref, b_ref = ref.train_linear_mse(W0, B0, X, Y, ref.SGDRef(**kw), 5)
    assert_close(W, W_ref)
    assert_close(b, b_ref)


def test_optim_method_state_persists_across_optimize_calls(data):
    # Optim methods keep their state (step count, momentum) across optimize() calls, and their
    # iteration counter goes on as BigDL's "neval" does: the second run trains iterations 4 to 6.
    X, Y = data
    kw = dict(learningrate=0.1, learningrate_decay=0.3, momentum=0.8)
    method = SGD(**kw)
    model = Linear(3, 1)
    model.set_weights([W0, B0])
    for end in (3, 6):
        Optimizer(model=model, training_rdd=(X, Y), criterion=MSECriterion(), end_trigger=MaxIteration(end),
                  batch_size=N, optim_method=method).optimize()
    W_ref, b_ref = ref.train_linear_mse(W0, B0, X, Y, ref.SGDRef(**kw), 6)
    W, b = model.get_weights()
    assert_close(W, W_ref)
    assert_close(b, b_ref)


def test_sgd_wrong_rule_would_be_caught(data):
    """Guard against a tautological set-up: momentum without dampening is a
    different trajectory from the default dampening, by far more than the tolerance."""
    X, Y = data
    a, _ = ref.train_linear_mse(W0, B0, X, Y, ref.SGDRef(learningrate=0.1, momentum=0.9), 7)
    b, _ = ref.train_linear_mse(W0, B0, X, Y, ref.SGDRef(learningrate=0.1, momentum=0.9, dampening=0.0), 7)
    assert ref.rel_err(a - W0, b - W0) > 1e-2
    c, _ = ref.train_linear_mse(W0, B0, X, Y, ref.AdamRef(learningrate=0.05), 7)
    d, _ = ref.train_linear_mse(W0, B0, X, Y, ref.AdamRef(learningrate=0.05, learningrate_decay=0.1), 7)
    assert ref.rel_err(c - W0, d - W0) > 1e-2


# Adam, Adagrad, RMSprop -----------------------------------------------------

ADAPTIVE_CASES = [
    ("Adam", Adam, ref.AdamRef, dict(learningrate=0.05)),
    ("Adam_decay", Adam, ref.AdamRef, dict(learningrate=0.05, learningrate_decay=0.2, beta1=0.8, beta2=0.99,
                                           epsilon=1e-6)),
    ("Adagrad", Adagrad, ref.AdagradRef, dict(learningrate=0.1)),
    ("Adagrad_decay_wd", Adagrad, ref.AdagradRef, dict(learningrate=0.1, learningrate_decay=0.3, weightdecay=0.2)),
    ("RMSprop", RMSprop, ref.RMSpropRef, dict(learningrate=0.02)),
    ("RMSprop_decay", RMSprop, ref.RMSpropRef, dict(learningrate=0.02, learningrate_decay=0.25, decayrate=0.9,
                                                    epsilon=1e-4)),
]


@pytest.mark.parametrize("name,cls,ref_cls,kw", ADAPTIVE_CASES, ids=[c[0] for c in ADAPTIVE_CASES])
@pytest.mark.parametrize("iterations", [1, 8])
def test_adaptive_methods(data, name, cls, ref_cls, kw, iterations):
    check(cls(**kw), ref_cls(**kw), data, iterations, what=name)


def test_adam_defaults(data):
    # lr 1e-3 moves the weights ~1e-2 in 12 steps: compare the displacement directly
    X, Y = data
    W, b = train(Adam(), X, Y, 12)
    W_ref, b_ref = ref.train_linear_mse(W0, B0, X, Y, ref.AdamRef(), 12)
    assert_close(ref.f64(W) - W0, W_ref - W0, tol=1e-3, what="Adam() displacement")
    assert_close(ref.f64(b) - B0, b_ref - B0, tol=1e-3, what="Adam() bias displacement")


def test_multi_output_linear_with_rmsprop():
    rng = np.random.RandomState(11)
    X = rand32(rng, 12, 4)
    Y = rand32(rng, 12, 3)
    W = rand32(rng, 3, 4)
    b = rand32(rng, 3)
    kw = dict(learningrate=0.03, decayrate=0.95)
    Wo, bo = train(RMSprop(**kw), X, Y, 6, W=W, b=b, d_out=3)
    W_ref, b_ref = ref.train_linear_mse(W, b, X, Y, ref.RMSpropRef(**kw), 6)
    assert_close(Wo, W_ref, what="RMSprop (3 outputs) weight")
    assert_close(bo, b_ref, what="RMSprop (3 outputs) bias")


# Validation numbers ---------------------------------------------------------

@pytest.fixture(scope="module")
def classification():
    rng = np.random.RandomState(5)
    n, d, c = 23, 6, 7
    X = rand32(rng, n, d) * 2
    y = rng.randint(1, c + 1, size=n).astype(np.float32)
    W = rand32(rng, c, d)
    b = rand32(rng, c)
    return X, y, W, b


def _classifier(W, b):
    lin = Linear(W.shape[1], W.shape[0])
    lin.set_weights([W, b])
    return Sequential().add(lin).add(LogSoftMax())


@pytest.mark.parametrize("batch_size", [1, 7, 23, 50])
@pytest.mark.parametrize("label_shape", ["N", "Nx1"])
def test_evaluate_classification(classification, batch_size, label_shape):
    X, y, W, b = classification
    n = X.shape[0]
    model = _classifier(W, b)
    logp = ref.log_softmax(ref.linear_forward(X, W, b))
    lab = y if label_shape == "N" else y.reshape(n, 1)
    res = model.evaluate((X, lab), batch_size, [Loss(), Top1Accuracy(), Top5Accuracy(),
                                                  Loss(ClassNLLCriterion(size_average=False))])
    assert [r.method for r in res] == ["Loss", "Top1Accuracy", "Top5Accuracy", "Loss"]
    for r in res:
        assert r.total_num == n and isinstance(r.total_num, int)
    ti = y.astype(int) - 1
    nll = -logp[np.arange(n), ti]
    assert abs(res[0].result - nll.mean()) <= 1e-5 * nll.mean(), "Loss() %r, expected mean NLL %r" % (
        res[0].result, nll.mean())
    top1 = np.mean(np.argmax(logp, axis=1) + 1 == y)
    assert res[1].result == pytest.approx(top1, abs=1e-12)
    rank = (logp > logp[np.arange(n), ti][:, None]).sum(axis=1)  # outputs beating the label's
    top5 = np.mean(rank < 5)
    assert res[2].result == pytest.approx(top5, abs=1e-12)
    assert 0 < top1 < top5 < 1, "test set-up: accuracies should be informative"
    assert abs(res[3].result - nll.mean()) <= 1e-5 * nll.mean()


def test_evaluate_loss_of_weighted_nll_is_mean_of_per_record_losses(classification):
    # each record's loss is the criterion applied to a batch of that record alone
    X, y, W, b = classification
    n, c = X.shape[0], W.shape[0]
    w = np.linspace(0.5, 3.5, c).astype(np.float32)
    model = _classifier(W, b)
    logp = ref.log_softmax(ref.linear_forward(X, W, b))
    per_avg = np.array([ref.class_nll(logp[i:i + 1], y[i:i + 1], w, True)[0] for i in range(n)])
    per_sum = np.array([ref.class_nll(logp[i:i + 1], y[i:i + 1], w, False)[0] for i in range(n)])
    for bs in (1, 7, n):
        r_avg, r_sum = model.evaluate((X, y), bs, [Loss(ClassNLLCriterion(w)), Loss(ClassNLLCriterion(w, False))])
        assert abs(r_avg.result - per_avg.mean()) <= 1e-5 * per_avg.mean(), "batch %d" % bs
        assert abs(r_sum.result - per_sum.mean()) <= 1e-5 * per_sum.mean(), "batch %d" % bs


def test_evaluate_cross_entropy_loss_on_scores(classification):
    X, y, W, b = classification
    lin = Linear(W.shape[1], W.shape[0])
    lin.set_weights([W, b])
    scores = ref.linear_forward(X, W, b)
    want = np.mean([ref.cross_entropy(scores[i], y[i:i + 1])[0] for i in range(len(y))])
    for bs in (1, 7, len(y)):
        (r,) = lin.evaluate((X, y), bs, [Loss(CrossEntropyCriterion())])
        assert abs(r.result - want) <= 1e-5 * want


def test_evaluate_accepts_list_of_samples(classification):
    X, y, W, b = classification
    model = _classifier(W, b)
    samples = [Sample.from_ndarray(X[i], y[i]) for i in range(len(y))]
    a = model.evaluate(samples, 5, [Loss(), Top1Accuracy()])
    c = model.evaluate((X, y), 5, [Loss(), Top1Accuracy()])
    assert a[0].result == pytest.approx(c[0].result, rel=1e-7) and a[1].result == c[1].result
    assert a[0].total_num == len(y)


@pytest.mark.parametrize("batch_size", [1, 7, 20])
def test_evaluate_regression(batch_size):
    rng = np.random.RandomState(9)
    n, d, k = 20, 5, 3
    X = rand32(rng, n, d)
    Y = rand32(rng, n, k)
    W, b = rand32(rng, k, d), rand32(rng, k)
    model = Linear(d, k)
    model.set_weights([W, b])
    out = ref.linear_forward(X, W, b)
    res = model.evaluate((X, Y), batch_size, [Loss(MSECriterion()), MAE(), Loss(AbsCriterion()),
                                              Loss(AbsCriterion(False))])
    assert [r.method for r in res] == ["Loss", "MAE", "Loss", "Loss"]
    assert all(r.total_num == n for r in res)
    d_ = out - ref.f64(Y)
    mse_per_record = (d_ ** 2).mean(axis=1)
    abs_per_record = np.abs(d_).mean(axis=1)
    assert abs(res[0].result - mse_per_record.mean()) <= 1e-5 * mse_per_record.mean()
    assert abs(res[1].result - abs_per_record.mean()) <= 1e-5 * abs_per_record.mean()
    assert abs(res[2].result - abs_per_record.mean()) <= 1e-5 * abs_per_record.mean()
    abs_sum_per_record = np.abs(d_).sum(axis=1)
    assert abs(res[3].result - abs_sum_per_record.mean()) <= 1e-5 * abs_sum_per_record.mean()


def test_evaluate_leaves_training_mode_and_weights_alone(classification):
    X, y, W, b = classification
    model = _classifier(W, b)
    assert model.is_training()
    model.evaluate((X, y), 4, [Top1Accuracy()])
    assert model.is_training()
    for got, want in zip(model.get_weights(), [W, b]):
        np.testing.assert_array_equal(got, want)


def test_top1_accuracy_on_softmax_output_matches_predict_class(classification):
    X, y, W, b = classification
    lin = Linear(W.shape[1], W.shape[0])
    lin.set_weights([W, b])
    model = Sequential().add(lin).add(SoftMax())
    (r,) = model.evaluate((X, y), 6, [Top1Accuracy()])
    classes = model.predict_class(X)
    np.testing.assert_array_equal(classes, np.argmax(ref.linear_forward(X, W, b), axis=1) + 1)
    assert r.result == pytest.approx(np.mean(classes == y), abs=1e-12)
