"""Checkpoints on Spark (the driver writes them between segments) and BigDL's driver-side retry
from the last checkpoint when a stage fails more often than Spark's own retries absorb."""
import logging
import os
import shutil
import time

import numpy as np
import pytest

from conftest import PYTHON_DIR

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'bigdl-go[spark]')")
if shutil.which("java") is None:
    pytest.skip("Java is not installed: PySpark needs a JVM", allow_module_level=True)

from bigdl.nn.criterion import ClassNLLCriterion  # noqa: E402
from bigdl.nn.layer import Dropout, Linear, LogSoftMax, Model, ReLU, Sequential  # noqa: E402
from bigdl.optim.optimizer import (SGD, MaxIteration, OptimMethod, Optimizer, SeveralIteration,  # noqa: E402
                                   _latest_checkpoint)
from bigdl.util.common import RNG, Sample  # noqa: E402


@pytest.fixture(scope="module")
def sc():
    from pyspark import SparkContext
    from bigdl.util.common import create_spark_conf
    path = os.environ.get("PYTHONPATH", "")
    if str(PYTHON_DIR) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join([str(PYTHON_DIR)] + ([path] if path else []))
    conf = create_spark_conf().setMaster("local[2]").setAppName("bigdl-go-checkpoint-tests")
    sc = SparkContext.getOrCreate(conf)
    sc.setLogLevel("OFF")
    yield sc
    sc.stop()


def rdd(sc, seed=0, n=240):
    rs = np.random.RandomState(seed)
    X = rs.randn(n, 8).astype(np.float32)
    y = rs.randint(1, 4, size=n).astype(np.float32)
    return sc.parallelize([Sample.from_ndarray(x, t) for x, t in zip(X, y)], 2)


def net(seed=3):
    RNG().set_seed(seed)
    return Sequential().add(Linear(8, 16)).add(ReLU()).add(Dropout(0.2)).add(Linear(16, 3)).add(LogSoftMax()) \
        .set_name("net")


def train(sc, iterations, ckpt=None, every=4, model=None, method=None):
    model = model or net()
    opt = Optimizer(model=model, training_rdd=rdd(sc), criterion=ClassNLLCriterion(),
                    end_trigger=MaxIteration(iterations), batch_size=24,
                    optim_method=method or SGD(learningrate=0.1, momentum=0.9))
    if ckpt is not None:
        opt.set_checkpoint(SeveralIteration(every), str(ckpt))
    opt.optimize()
    return model


def weights(model):
    return np.concatenate([w.ravel() for w in model.get_weights()])


def test_driver_writes_bigdl_layout_and_a_checkpoint_resumes_exactly(sc, tmp_path):
    clean = weights(train(sc, 20))
    got = train(sc, 20, ckpt=tmp_path / "ckpt")
    # Checkpoints cut the run into segments; the weights are those of the uncut run.
    np.testing.assert_array_equal(weights(got), clean)
    run = tmp_path / "ckpt" / os.listdir(tmp_path / "ckpt")[0]
    assert sorted(os.listdir(run)) == sorted(["model.%d" % n for n in (5, 9, 13, 17, 21)] +
                                             ["optimMethod-net.%d" % n for n in (5, 9, 13, 17, 21)])
    # Resume from the one after iteration 8 in a new optimize(): it continues where it stood.
    model = Model.loadModel(str(run / "model.9"))
    method = OptimMethod.load(str(run / "optimMethod-net.9"))
    np.testing.assert_array_equal(weights(train(sc, 20, model=model, method=method)), clean)


def test_a_stage_failing_every_attempt_restarts_from_the_last_checkpoint(sc, tmp_path, caplog):
    clean = weights(train(sc, 20))
    sc.environment["BIGDL_TEST_FAIL_STAGE"] = "1:11:%d" % time.time_ns()  # task 1, before iteration 11
    try:
        with caplog.at_level(logging.INFO, logger="bigdl"):
            got = train(sc, 20, ckpt=tmp_path / "ckpt")
    finally:
        del sc.environment["BIGDL_TEST_FAIL_STAGE"]
    msgs = [r.getMessage() for r in caplog.records]
    assert "Retrying 1 times" in msgs, msgs
    assert any(m.startswith("Recover from last snapshot") and m.endswith("model.9") for m in msgs), msgs
    assert not any("Retrying 2 times" in m for m in msgs)
    np.testing.assert_array_equal(weights(got), clean)


def test_a_failure_before_the_first_checkpoint_restarts_from_the_start(sc, tmp_path, caplog):
    clean = weights(train(sc, 12))
    sc.environment["BIGDL_TEST_FAIL_STAGE"] = "0:3:%d" % time.time_ns()
    try:
        with caplog.at_level(logging.INFO, logger="bigdl"):
            got = train(sc, 12, ckpt=tmp_path / "ckpt", every=6)
    finally:
        del sc.environment["BIGDL_TEST_FAIL_STAGE"]
    assert "Recover from origin model" in [r.getMessage() for r in caplog.records]
    np.testing.assert_array_equal(weights(got), clean)


def test_without_checkpoint_path_there_is_no_retry(sc, caplog):
    sc.environment["BIGDL_TEST_FAIL_STAGE"] = "1:3:%d" % time.time_ns()
    try:
        with caplog.at_level(logging.INFO, logger="bigdl"), pytest.raises(Exception):
            train(sc, 8)
    finally:
        del sc.environment["BIGDL_TEST_FAIL_STAGE"]
    assert not any("Retrying" in r.getMessage() for r in caplog.records)


def test_retry_times_bounds_the_retries(sc, tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("BIGDL_FAILURE_RETRY_TIMES", "1")  # BigDL gives up when the count is reached
    sc.environment["BIGDL_TEST_FAIL_STAGE"] = "1:3:%d" % time.time_ns()
    try:
        with caplog.at_level(logging.INFO, logger="bigdl"), pytest.raises(Exception):
            train(sc, 8, ckpt=tmp_path / "ckpt")
    finally:
        del sc.environment["BIGDL_TEST_FAIL_STAGE"]
    msgs = [r.getMessage() for r in caplog.records]
    assert not any("Retrying" in m for m in msgs) and any("bigdl.failure.retryTimes is 1" in m for m in msgs), msgs


def test_retry_times_must_be_a_positive_integer(sc, monkeypatch):
    from bigdl._spark import retry_times
    assert retry_times(sc) == 5
    monkeypatch.setenv("BIGDL_FAILURE_RETRY_TIMES", "3")
    assert retry_times(sc) == 3
    monkeypatch.setenv("BIGDL_FAILURE_RETRY_TIMES", "three")
    with pytest.raises(ValueError, match="BIGDL_FAILURE_RETRY_TIMES"):
        retry_times(sc)


def test_a_method_saved_on_spark_continues_locally_and_back(sc, tmp_path, caplog):
    # Between local and Spark runs the counters carry over (the shuffled order does not: the
    # partitions differ), so each continuation takes only the iterations left.
    method = SGD(learningrate=0.1, momentum=0.9)
    model = train(sc, 8, method=method)
    method.save(str(tmp_path / "spark.method"))
    loaded = OptimMethod.load(str(tmp_path / "spark.method"))
    rs = np.random.RandomState(0)
    X, y = rs.randn(240, 8).astype(np.float32), rs.randint(1, 4, size=240).astype(np.float32)
    with caplog.at_level(logging.INFO, logger="bigdl"):
        Optimizer(model=model, training_rdd=(X, y), criterion=ClassNLLCriterion(), end_trigger=MaxIteration(12),
                  batch_size=24, optim_method=loaded).optimize()
    assert loaded._call("get_state")[0]["t"] == 12
    assert any("continuing a Spark run's epoch 1, iteration 8 locally" in r.getMessage() for r in caplog.records)
    loaded.save(str(tmp_path / "local.method"))
    again = OptimMethod.load(str(tmp_path / "local.method"))
    train(sc, 15, model=model, method=again)
    assert again._call("get_state")[0]["t"] == 15
