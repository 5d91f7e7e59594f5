"""BatchNormalization and SpatialBatchNormalization beyond the harness rows: several
training steps against PyTorch's BatchNorm1d/2d (outputs, gradients and running
statistics), BigDL's set_running_mean / set_running_std, batches too small to
normalise, save/load of the running statistics, and training through Optimizer, where
each core normalises its own share of the mini-batch (BigDL's engine) and the running
statistics are averaged over the cores after each step."""
import numpy as np
import pytest
import torch

from bigdl.nn.criterion import MSECriterion
from bigdl.nn.layer import (BatchNormalization, Layer, Linear, Sequential, SpatialBatchNormalization,
                            SpatialConvolution)
from bigdl.optim.optimizer import SGD, LocalOptimizer, MaxIteration
from bigdl.util.common import RNG

from _reference import rel_err

TOL = 1e-4


def close(ours, ref, what):
    e = rel_err(np.asarray(ours), np.asarray(ref, dtype=np.float64))
    assert e <= TOL, "%s: relative error %.3g > %g" % (what, e, TOL)


def running(layer):
    mean, var = layer._call("get_extra_parameters")[1]
    return [mean, var]


CASES = [
    ("1d", lambda: BatchNormalization(6, 1e-5, 0.1), lambda: torch.nn.BatchNorm1d(6, 1e-5, 0.1), (8, 6), None),
    ("1d-momentum-eps", lambda: BatchNormalization(4, 1e-3, 0.4), lambda: torch.nn.BatchNorm1d(4, 1e-3, 0.4),
     (5, 4), None),
    ("1d-noaffine", lambda: BatchNormalization(3, affine=False), lambda: torch.nn.BatchNorm1d(3, affine=False),
     (7, 3), None),
    ("2d-NCHW", lambda: SpatialBatchNormalization(3), lambda: torch.nn.BatchNorm2d(3), (4, 3, 5, 6), None),
    ("2d-NHWC", lambda: SpatialBatchNormalization(3, 1e-4, 0.2, data_format="NHWC"),
     lambda: torch.nn.BatchNorm2d(3, 1e-4, 0.2), (2, 3, 4, 7), (0, 2, 3, 1)),
    ("2d-batch-of-one", lambda: SpatialBatchNormalization(2), lambda: torch.nn.BatchNorm2d(2), (1, 2, 3, 3), None),
]


@pytest.mark.parametrize("name,make,make_ref,shape,perm", CASES, ids=[c[0] for c in CASES])
def test_steps_match_pytorch_in_training_and_evaluation(name, make, make_ref, shape, perm):
    """Four training steps (forward, backward, running statistics after each), then evaluation
    (forward and backward with the running statistics), all as PyTorch's module in float64."""
    rng = np.random.RandomState(1)
    bn, ref = make(), make_ref().double()
    if bn.is_with_weights():
        w, b = rng.uniform(0.5, 1.5, size=shape[1]), rng.uniform(-0.5, 0.5, size=shape[1])
        bn.set_weights([w, b])
        with torch.no_grad():
            ref.weight.copy_(torch.tensor(w)), ref.bias.copy_(torch.tensor(b))
    to_ours = (lambda a: np.ascontiguousarray(a.transpose(perm))) if perm else (lambda a: a)
    for step in range(5):
        if step == 4:
            bn.evaluate()
            ref.eval()
        x = (rng.randn(*shape) * (1 + step) + step).astype(np.float32)
        gy = rng.randn(*shape).astype(np.float32)
        bn.zero_grad_parameters()
        y = bn.forward(to_ours(x))
        gx = bn.backward(to_ours(x), to_ours(gy))
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        ref.zero_grad()
        yt = ref(xt)
        (yt * torch.tensor(gy, dtype=torch.float64)).sum().backward()
        what = "%s step %d" % (name, step + 1)
        close(y, to_ours(yt.detach().numpy()), what + " output")
        close(gx, to_ours(xt.grad.numpy()), what + " input gradient")
        if bn.is_with_weights():
            gw, gb = bn._call("get_grads")[1]
            close(gw, ref.weight.grad.numpy(), what + " weight gradient")
            close(gb, ref.bias.grad.numpy(), what + " bias gradient")
        mean, var = running(bn)
        close(mean, ref.running_mean.numpy(), what + " running mean")
        close(var, ref.running_var.numpy(), what + " running variance")


@pytest.mark.parametrize("layer,x", [(lambda: BatchNormalization(3), np.ones((1, 3), np.float32)),
                                     (lambda: SpatialBatchNormalization(2), np.ones((1, 2, 1, 1), np.float32))])
def test_one_value_per_channel_in_training_is_refused(layer, x):
    # BigDL divides by (count − 1) and leaves NaN in the running variance; PyTorch refuses.
    bn = layer()
    with pytest.raises(ValueError, match=r"more than one value per channel.*\(1, "):
        bn.forward(x)
    mean, var = running(bn)
    np.testing.assert_array_equal(var, np.ones_like(var))
    bn.evaluate()
    assert np.all(np.isfinite(bn.forward(x)))


def test_unbatched_input_is_refused_in_training_and_accepted_in_evaluation():
    bn = SpatialBatchNormalization(2)
    x = np.random.RandomState(2).randn(2, 3, 4).astype(np.float32)
    with pytest.raises(ValueError, match=r"SpatialBatchNormalization.*in training.*\(2, 3, 4\)"):
        bn.forward(x)
    bn.evaluate()
    np.testing.assert_allclose(bn.forward(x), bn.forward(x[None])[0], rtol=0, atol=0)


def test_defaults_and_weights_follow_bigdl():
    # BigDL 0.4 draws the weight from U(0, 1) and zeroes the bias; running mean 0, variance 1.
    RNG().set_seed(4)
    bn = BatchNormalization(500)
    w, b = bn.get_weights()
    assert w.shape == (500,) and 0 <= w.min() and w.max() < 1 and w.std() > 0.2
    np.testing.assert_array_equal(b, np.zeros(500, np.float32))
    mean, var = running(bn)
    np.testing.assert_array_equal(mean, np.zeros(500, np.float32))
    np.testing.assert_array_equal(var, np.ones(500, np.float32))
    assert BatchNormalization(3, affine=False).get_weights() is None
    assert str(SpatialBatchNormalization(4).set_name("bn")) == "SpatialBatchNormalization[bn](4, 1e-05, 0.1, true)"


def test_init_weight_and_bias_are_used_verbatim():
    bn = SpatialBatchNormalization(2, init_weight=np.array([0.5, 2.0]), init_bias=np.array([1.0, -1.0]))
    w, b = bn.get_weights()
    np.testing.assert_array_equal(w, [0.5, 2.0])
    np.testing.assert_array_equal(b, [1.0, -1.0])
    with pytest.raises(ValueError, match="affine=False"):
        BatchNormalization(2, affine=False, init_weight=np.ones(2))


def test_set_running_mean_and_std_drive_evaluation():
    bn = BatchNormalization(3, init_weight=np.array([1.0, 2.0, 0.5]), init_bias=np.array([0.0, 1.0, -1.0]))
    assert bn.set_running_mean(np.array([1.0, -1.0, 0.0])) is bn
    assert bn.set_running_std(np.array([4.0, 0.25, 1.0])) is bn  # BigDL's setRunningStd sets the variance
    bn.evaluate()
    x = np.array([[3.0, 0.0, 2.0]], np.float32)
    expect = (x - [1.0, -1.0, 0.0]) / np.sqrt(np.array([4.0, 0.25, 1.0]) + 1e-5) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
    close(bn.forward(x), expect, "evaluation with set running statistics")


@pytest.mark.parametrize("call,arg,words", [
    ("set_running_mean", np.ones(2), ["BatchNormalization", "set_running_mean", "(3,)", "(2,)"]),
    ("set_running_std", np.ones((3, 2)), ["BatchNormalization", "set_running_std", "(3,)", "(3, 2)"]),
])
def test_running_statistics_of_the_wrong_shape_are_refused(call, arg, words):
    bn = BatchNormalization(3)
    with pytest.raises(ValueError) as e:
        getattr(bn, call)(arg)
    for w in words:
        assert w in str(e.value)


def test_running_statistics_on_another_layer_are_refused():
    with pytest.raises(ValueError, match=r"Linear.*set_running_mean"):
        Linear(2, 3).set_running_mean(np.ones(3))


@pytest.mark.parametrize("kw,words", [(dict(n_output=0), ["n_output", "positive"]),
                                      (dict(n_output=2, momentum=1.5), ["momentum", "1.5"]),
                                      (dict(n_output=2, eps=-1), ["eps"]),
                                      (dict(n_output=2, data_format="NWHC"), ["data_format", "NWHC"])])
def test_bad_arguments_are_refused(kw, words):
    with pytest.raises(ValueError) as e:
        SpatialBatchNormalization(**kw)
    for w in ["SpatialBatchNormalization"] + words:
        assert w in str(e.value)


def test_save_and_load_keep_the_running_statistics(tmp_path):
    rng = np.random.RandomState(5)
    model = Sequential().add(SpatialConvolution(2, 3, 3, 3)).add(SpatialBatchNormalization(3)) \
        .add(SpatialBatchNormalization(3, affine=False, data_format="NCHW"))
    for _ in range(3):
        model.forward(rng.randn(4, 2, 6, 6).astype(np.float32) * 3 + 1)
    stats = model._call("get_extra_parameters")[1]
    assert len(stats) == 4 and not np.allclose(stats[0], 0) and not np.allclose(stats[1], 1)
    path = str(tmp_path / "bn.model")
    model.save(path)
    loaded = Layer.load(path)
    for a, b in zip(loaded._call("get_extra_parameters")[1], stats):
        np.testing.assert_array_equal(a, b)
    x = rng.randn(2, 2, 6, 6).astype(np.float32)
    model.evaluate()
    loaded.evaluate()
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


# Training through Optimizer --------------------------------------------------------------

N, D, F = 64, 100, 60  # 6·N·parameters passes the loop's threshold for splitting a batch


def shuffled_orders(seed, n, times):
    """The record orders of a local run seeded with seed: its shuffling stream is seeded by
    the global generator's first draw, and shuffles one order in place each epoch
    (Fisher-Yates, j = ⌊u·(i + 1) / 2³²⌋), as core/optim and core/rng do."""
    first = int(np.random.RandomState(seed).randint(0, 2 ** 32, dtype=np.uint64))
    stream = np.random.RandomState(first)
    order, out = list(range(n)), []
    for _ in range(times):
        for i in range(n - 1, 0, -1):
            j = (int(stream.randint(0, 2 ** 32, dtype=np.uint64)) * (i + 1)) >> 32
            order[i], order[j] = order[j], order[i]
        out.append(list(order))
    return out


def reference_run(X, Y, W, b, g, beta, orders, parts, lr, momentum=0.1):
    """float64 PyTorch: each step splits the (shuffled) batch into `parts` consecutive shares,
    normalises each with its own statistics, sums the MSE over the batch, takes one SGD step,
    and averages the shares' running statistics."""
    P = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (W, b, g, beta)]
    rm, rv = np.zeros(F), np.ones(F)
    for order in orders:
        loss, means, vars_ = 0, [], []
        for i in range(parts):
            idx = order[i * N // parts:(i + 1) * N // parts]
            h = torch.tensor(X[idx], dtype=torch.float64) @ P[0].T + P[1]
            m, v = torch.zeros(F, dtype=torch.float64), torch.ones(F, dtype=torch.float64)
            m.copy_(torch.tensor(rm)), v.copy_(torch.tensor(rv))
            y = torch.nn.functional.batch_norm(h, m, v, P[2], P[3], training=True, momentum=momentum, eps=1e-5)
            loss = loss + ((y - torch.tensor(Y[idx], dtype=torch.float64)) ** 2).sum() / (N * F)
            means.append(m.numpy())
            vars_.append(v.numpy())
        rm, rv = np.mean(means, axis=0), np.mean(vars_, axis=0)
        for p in P:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in P:
                p -= lr * p.grad
    return [p.detach().numpy() for p in P], rm, rv


@pytest.mark.parametrize("cores", [1, 2])
def test_optimizer_normalises_each_cores_share_and_averages_running_statistics(cores):
    rng = np.random.RandomState(6)
    X = (rng.randn(N, D) + rng.uniform(-1, 1, size=D)).astype(np.float32)
    Y = rng.randn(N, F).astype(np.float32)
    model = Sequential().add(Linear(D, F)).add(BatchNormalization(F))
    W, b, g, beta = model.get_weights()
    steps, seed, lr = 3, 21, 0.5
    RNG().set_seed(seed)
    LocalOptimizer(X, Y, model, MSECriterion(), MaxIteration(steps), N, SGD(learningrate=lr), cores=cores).optimize()
    orders = shuffled_orders(seed, N, steps)
    (W1, b1, g1, beta1), rm, rv = reference_run(X, Y, W, b, g, beta, orders, cores, lr)
    for ours, ref, what in zip(model.get_weights() + running(model), [W1, b1, g1, beta1, rm, rv],
                               ["Linear weight", "Linear bias", "BN weight", "BN bias", "running mean",
                                "running variance"]):
        close(ours, ref, "%d core(s): %s" % (cores, what))
    if cores == 2:
        # The shares' statistics differ from the whole batch's: the split is visible.
        _, rm_whole, rv_whole = reference_run(X, Y, W, b, g, beta, orders, 1, lr)
        assert rel_err(np.asarray(running(model)[1]), rv_whole) > 10 * TOL


def test_signatures_are_bigdls():
    import inspect
    common = ["n_output", "eps", "momentum", "affine", "init_weight", "init_bias", "init_grad_weight",
              "init_grad_bias"]
    assert list(inspect.signature(BatchNormalization).parameters) == common + ["bigdl_type"]
    assert list(inspect.signature(SpatialBatchNormalization).parameters) == common + ["data_format", "bigdl_type"]
    defaults = {n: p.default for n, p in inspect.signature(SpatialBatchNormalization).parameters.items()}
    assert (defaults["eps"], defaults["momentum"], defaults["affine"], defaults["data_format"]) == (1e-5, 0.1, True,
                                                                                                    "NCHW")


def test_a_share_of_one_record_fails_training_with_a_clear_error():
    # 65 records in batches of 64: the epoch's last batch is one record, which BatchNormalization
    # cannot normalise (BigDL would put NaN into the running variance).
    rng = np.random.RandomState(7)
    X, Y = rng.randn(65, D).astype(np.float32), rng.randn(65, F).astype(np.float32)
    model = Sequential().add(Linear(D, F)).add(BatchNormalization(F))
    opt = LocalOptimizer(X, Y, model, MSECriterion(), MaxIteration(2), 64, SGD(learningrate=0.1), cores=2)
    with pytest.raises(ValueError) as e:
        opt.optimize()
    for w in ["iteration 2", "BatchNormalization", "more than one value per channel", "(1, 60)", "2 records per core"]:
        assert w in str(e.value), "%r lacks %r" % (str(e.value), w)
    assert np.all(np.isfinite(running(model)[1]))
