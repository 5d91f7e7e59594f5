"""Training, evaluation and prediction with tables: Samples with several feature tensors
and table labels, (features, labels) tuples of ndarray lists, locally and on Spark."""
import shutil
import textwrap

import numpy as np
import pytest

from bigdl.nn.criterion import ClassNLLCriterion, MSECriterion, ParallelCriterion
from bigdl.nn.layer import CAddTable, Input, Linear, LogSoftMax, Model, Tanh
from bigdl.optim.optimizer import SGD, Loss, MaxEpoch, Optimizer, Top1Accuracy
from bigdl.util.common import RNG, Sample

from conftest import _run_python, child_env


def two_input_data(n=300, seed=0):
    rs = np.random.RandomState(seed)
    a, b = rs.randn(n, 4).astype(np.float32), rs.randn(n, 3).astype(np.float32)
    y = ((a[:, 0] + b[:, 1]) > 0).astype(np.float32) + 1
    return a, b, y


def two_input_model(seed=1, heads=1):
    RNG().set_seed(seed)
    x1, x2 = Input(), Input()
    h = Tanh()(CAddTable()([Linear(4, 8)(x1), Linear(3, 8)(x2)]))
    out = LogSoftMax()(Linear(8, 2)(h))
    if heads == 1:
        return Model([x1, x2], out)
    return Model([x1, x2], [out, Linear(8, 1)(h)])


def train(model, data, criterion=None, epochs=5):
    opt = Optimizer(model=model, training_rdd=data, criterion=criterion or ClassNLLCriterion(),
                    end_trigger=MaxEpoch(epochs), optim_method=SGD(learningrate=0.2), batch_size=32)
    opt.optimize()
    return model


def test_samples_with_two_features_train_a_graph():
    a, b, y = two_input_data()
    samples = [Sample.from_ndarray([p, q], t) for p, q, t in zip(a, b, y)]
    model = two_input_model()
    before = model.evaluate(samples, 32, [Loss()])[0].result
    train(model, samples)
    loss, acc = model.evaluate(samples, 32, [Loss(), Top1Accuracy()])
    assert loss.result < 0.5 * before and acc.result > 0.9, (before, loss, acc)
    # predict: a list of ndarrays is the two inputs; Samples work too.
    p1 = model.predict([a, b])
    p2 = model.predict(samples)
    assert p1.shape == (300, 2)
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(model.predict_class([a, b]), p1.argmax(1) + 1)


def test_ndarray_tuples_train_to_the_same_weights_as_samples():
    a, b, y = two_input_data()
    samples = [Sample.from_ndarray([p, q], t) for p, q, t in zip(a, b, y)]
    m1 = train(two_input_model(), samples)
    m2 = train(two_input_model(), ([a, b], y))
    for u, v in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(u, v)
    r1 = m1.evaluate(samples, 50, [Loss()])[0]
    r2 = m2.evaluate(([a, b], y), 50, [Loss()])[0]
    assert r1.result == r2.result and r1.total_num == r2.total_num == 300


def test_table_labels_train_with_parallel_criterion():
    a, b, y = two_input_data()
    target = (a[:, :1] - b[:, :1]).astype(np.float32)
    samples = [Sample.from_ndarray([p, q], [t, r]) for p, q, t, r in zip(a, b, y, target)]
    model = two_input_model(heads=2)
    crit = ParallelCriterion().add(ClassNLLCriterion()).add(MSECriterion(), 0.5)
    before = model.evaluate(samples, 32, [Loss(crit)])[0].result
    train(model, samples, crit, epochs=8)
    after = model.evaluate(samples, 32, [Loss(crit)])[0].result
    assert after < 0.5 * before, (before, after)
    out = model.predict([a, b])
    assert isinstance(out, list) and [o.shape for o in out] == [(300, 2), (300, 1)]


def test_mismatched_records_are_clear_errors():
    a, b, y = two_input_data(10)
    samples = [Sample.from_ndarray([p, q], t) for p, q, t in zip(a, b, y)]
    samples[3] = Sample.from_ndarray(a[3], y[3])
    with pytest.raises(ValueError, match="record 4 has 1 feature"):
        train(two_input_model(), samples)
    with pytest.raises(ValueError, match="same number of records"):
        train(two_input_model(), ([a, b[:5]], y))
    with pytest.raises(ValueError, match=r"table of 2 inputs"):
        train(two_input_model(), (a, y))
    with pytest.raises(ValueError, match=r"ClassNLLCriterion: expected a tensor input.*\{\(1, 2\), \(1, 1\)\}"):
        train(two_input_model(heads=2), samples[:3] + samples[4:])
    assert two_input_model().predict([a, b]).shape == (10, 2)


SPARK = textwrap.dedent("""
    import numpy as np
    from pyspark import SparkContext
    from bigdl.util.common import create_spark_conf, init_engine, RNG, Sample
    from bigdl.nn.layer import Input, Linear, Tanh, CAddTable, LogSoftMax, Model
    from bigdl.nn.criterion import ClassNLLCriterion, MSECriterion, ParallelCriterion
    from bigdl.optim.optimizer import Optimizer, MaxEpoch, SGD, Loss
    # One task slot with the same 2 cores as local training.
    sc = SparkContext.getOrCreate(create_spark_conf().setMaster("local[2]").set("spark.task.cpus", "2"))
    sc.setLogLevel("ERROR")
    init_engine()
    rs = np.random.RandomState(0)
    a, b = rs.randn(400, 4).astype(np.float32), rs.randn(400, 3).astype(np.float32)
    y = ((a[:, 0] + b[:, 1]) > 0).astype(np.float32) + 1
    r = (a[:, :1] - b[:, :1]).astype(np.float32)
    data = [Sample.from_ndarray([p, q], [t, u]) for p, q, t, u in zip(a, b, y, r)]
    def model():
        RNG().set_seed(4)
        x1, x2 = Input(), Input()
        h = Tanh()(CAddTable()([Linear(4, 8)(x1), Linear(3, 8)(x2)]))
        return Model([x1, x2], [LogSoftMax()(Linear(8, 2)(h)), Linear(8, 1)(h)])
    def crit():
        return ParallelCriterion().add(ClassNLLCriterion()).add(MSECriterion(), 0.5)
    def run(training):
        m = model()
        Optimizer(model=m, training_rdd=training, criterion=crit(), end_trigger=MaxEpoch(3),
                  optim_method=SGD(learningrate=0.1), batch_size=40).optimize()
        return m
    local, dist = run(data), run(sc.parallelize(data, 1))
    for u, v in zip(local.get_weights(), dist.get_weights()):
        assert np.array_equal(u, v), np.abs(u - v).max()
    rdd = sc.parallelize(data, 2)
    preds = dist.predict(rdd).collect()
    assert len(preds) == 400 and [p.shape for p in preds[0]] == [(2,), (1,)], preds[0]
    want = dist.predict([a, b])
    np.testing.assert_allclose(np.stack([p[0] for p in preds]), want[0], rtol=1e-6)
    e_rdd = dist.evaluate(rdd, 50, [Loss(crit())])[0]
    e_list = dist.evaluate(data, 50, [Loss(crit())])[0]
    assert e_rdd.total_num == e_list.total_num == 400 and abs(e_rdd.result - e_list.result) < 1e-5
    print("IDENTICAL")
""")


@pytest.mark.skipif(shutil.which("java") is None, reason="Java is not installed: PySpark needs a JVM")
def test_graph_trains_on_spark_to_the_local_weights():
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'bigdl-go[spark]')")
    p = _run_python(code=SPARK, timeout=300, env=child_env())
    assert p.returncode == 0 and "IDENTICAL" in p.stdout, p.stderr[-3000:]
