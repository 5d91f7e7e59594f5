"""An LSTM classifier trains on Spark (local[2], one partition, its task given both cores) to
the same weights as local training on two cores, dropout masks included: the same Go loop
runs, and each worker draws its masks from its own seeded stream either way."""
import shutil
import textwrap

import pytest

from conftest import _run_python, child_env

SPARK = textwrap.dedent("""
    import numpy as np
    from pyspark import SparkContext
    from bigdl.util.common import create_spark_conf, init_engine, RNG, Sample
    from bigdl.nn.layer import LSTM, GRU, Linear, LogSoftMax, Recurrent, Select, Sequential
    from bigdl.nn.criterion import ClassNLLCriterion
    from bigdl.optim.optimizer import Optimizer, MaxEpoch, SGD
    sc = SparkContext.getOrCreate(create_spark_conf().setMaster("local[2]").set("spark.task.cpus", "2"))
    sc.setLogLevel("ERROR")
    init_engine()
    rs = np.random.RandomState(0)
    y = rs.randint(0, 3, 256)
    x = (rs.randn(256, 7, 5) + y[:, None, None] * 0.5).astype(np.float32)
    data = [Sample.from_ndarray(a, float(b + 1)) for a, b in zip(x, y)]
    def model(cell):
        RNG().set_seed(4)
        return (Sequential().add(Recurrent().add(cell())).add(Select(2, -1)).add(Linear(32, 3))
                .add(LogSoftMax()))
    def run(cell, training):
        m = model(cell)
        Optimizer(model=m, training_rdd=training, criterion=ClassNLLCriterion(), end_trigger=MaxEpoch(2),
                  optim_method=SGD(learningrate=0.1), batch_size=64).optimize()
        return m
    for name, cell in (("LSTM", lambda: LSTM(5, 32)), ("LSTM-dropout", lambda: LSTM(5, 32, p=0.3)),
                       ("GRU-dropout", lambda: GRU(5, 32, p=0.2))):
        start = model(cell).get_weights()
        local, dist = run(cell, data), run(cell, sc.parallelize(data, 1))
        assert not np.array_equal(local.get_weights()[0], start[0]), name + ": training changed nothing"
        for u, v in zip(local.get_weights(), dist.get_weights()):
            assert np.array_equal(u, v), (name, np.abs(u - v).max())
    print("IDENTICAL")
""")


@pytest.mark.skipif(shutil.which("java") is None, reason="Java is not installed: PySpark needs a JVM")
def test_lstm_trains_on_spark_to_the_local_weights():
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'bigdl-go[spark]')")
    p = _run_python(code=SPARK, timeout=600, env=child_env())
    assert p.returncode == 0 and "IDENTICAL" in p.stdout, p.stderr[-3000:]
