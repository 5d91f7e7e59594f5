"""Regularizers, clipping and schedules on Spark (local[2], 2 partitions)
train as one core does locally. Skips only when pyspark or Java is absent."""
import os
import shutil

import numpy as np
import pytest

from conftest import PYTHON_DIR

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'bigdl-go[spark]')")
if shutil.which("java") is None:
    pytest.skip("Java is not installed: PySpark needs a JVM", allow_module_level=True)

from bigdl.nn.criterion import ClassNLLCriterion  # noqa: E402
from bigdl.nn.layer import Linear, LogSoftMax, ReLU, Sequential  # noqa: E402
from bigdl.optim.optimizer import (SGD, DistriOptimizer, L1L2Regularizer, L2Regularizer, LocalOptimizer,  # noqa: E402
                                   MaxEpoch, Optimizer, Plateau)
from bigdl.util.common import RNG, Sample  # noqa: E402


@pytest.fixture(scope="module")
def sc():
    from pyspark import SparkContext
    from bigdl.util.common import create_spark_conf
    path = os.environ.get("PYTHONPATH", "")
    if str(PYTHON_DIR) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join([str(PYTHON_DIR)] + ([path] if path else []))
    conf = create_spark_conf().setMaster("local[2]").setAppName("bigdl-go-training-api-tests")
    sc = SparkContext.getOrCreate(conf)
    sc.setLogLevel("ERROR")
    yield sc
    sc.stop()


def _model():
    RNG().set_seed(11)
    return (Sequential().add(Linear(10, 256, wRegularizer=L1L2Regularizer(1e-3, 0.05), bRegularizer=L2Regularizer(0.1)))
            .add(ReLU()).add(Linear(256, 3, wRegularizer=L2Regularizer(0.2))).add(LogSoftMax()))


def _data(n=128):  # 6·n·parameters > 2e6: two cores split each batch
    rs = np.random.RandomState(4)
    y = rs.randint(0, 3, size=n)
    X = (np.random.RandomState(9).randn(3, 10)[y] + rs.randn(n, 10)).astype(np.float32)
    return X, (y + 1).astype(np.float32)


def _configure(opt):
    opt.set_gradclip_l2norm(0.5)
    return opt


def _method():
    return SGD(learningrate=0.2, momentum=0.5, leaningrate_schedule=Plateau("Loss", factor=0.5, patience=0))


def test_two_partitions_train_as_one_and_two_cores(sc):
    X, y = _data()
    n = len(X)
    weights = []
    for cores in (1, 2):
        m = _model()
        _configure(LocalOptimizer(X, y, m, ClassNLLCriterion(), MaxEpoch(4), n, _method(), cores=cores)).optimize()
        weights.append(m.get_weights())
    m = _model()
    rdd = sc.parallelize([Sample.from_ndarray(a, b) for a, b in zip(X, y)], 2)
    opt = Optimizer.create(m, rdd, ClassNLLCriterion(), MaxEpoch(4), n, _method())
    assert isinstance(opt, DistriOptimizer)
    _configure(opt).optimize()
    weights.append(m.get_weights())
    plain = _model()
    LocalOptimizer(X, y, plain, ClassNLLCriterion(), MaxEpoch(4), n, SGD(learningrate=0.2, momentum=0.5),
                   cores=1).optimize()
    assert not np.allclose(plain.get_weights()[0], weights[0][0], rtol=1e-3)
    for other in weights[1:]:
        for a, b in zip(weights[0], other):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_lbfgs_state_carries_across_segments(sc):
    """Validation every epoch cuts the Spark run into segments; LBFGS's history
    travels with the optim method between them, so 2 partitions match 1 core."""
    from bigdl.optim.optimizer import LBFGS, EveryEpoch, Loss
    X, y = _data()
    n = len(X)
    val = [Sample.from_ndarray(a, b) for a, b in zip(X[:32], y[:32])]
    local = _model()
    opt = LocalOptimizer(X, y, local, ClassNLLCriterion(), MaxEpoch(4), n, LBFGS(learningrate=0.3), cores=1)
    opt.set_validation(32, X[:32], y[:32], EveryEpoch(), [Loss()])
    opt.optimize()
    m = _model()
    rdd = sc.parallelize([Sample.from_ndarray(a, b) for a, b in zip(X, y)], 2)
    opt = Optimizer(m, rdd, ClassNLLCriterion(), MaxEpoch(4), n, LBFGS(learningrate=0.3))
    opt.set_validation(32, val, EveryEpoch(), [Loss()])
    opt.optimize()
    for a, b in zip(local.get_weights(), m.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_per_submodule_methods_on_two_partitions(sc):
    """Each task updates its shard with the shard's part of every submodule's
    method; their state is joined between segments (validation every epoch)."""
    from bigdl.optim.optimizer import Adam, EveryEpoch, Loss

    def named():
        RNG().set_seed(21)
        return (Sequential().add(Linear(10, 256).set_name("a")).add(ReLU())
                .add(Linear(256, 3).set_name("b")).add(LogSoftMax()))

    def methods():
        return {"a": Adam(learningrate=0.01), "b": SGD(learningrate=0.1, momentum=0.9,
                                                       leaningrate_schedule=Plateau("Loss", patience=0))}
    X, y = _data()
    n = len(X)
    local = named()
    opt = LocalOptimizer(X, y, local, ClassNLLCriterion(), MaxEpoch(3), n, methods(), cores=1)
    opt.set_validation(32, X[:32], y[:32], EveryEpoch(), [Loss()])
    opt.optimize()
    m = named()
    rdd = sc.parallelize([Sample.from_ndarray(a, b) for a, b in zip(X, y)], 2)
    opt = Optimizer(m, rdd, ClassNLLCriterion(), MaxEpoch(3), n, methods())
    opt.set_validation(32, [Sample.from_ndarray(a, b) for a, b in zip(X[:32], y[:32])], EveryEpoch(), [Loss()])
    opt.optimize()
    for a, b in zip(local.get_weights(), m.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
