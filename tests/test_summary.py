"""TensorBoard summaries: TrainSummary, ValidationSummary, save_graph_topology.

TensorBoard's own reader (EventAccumulator, from the tensorboard package)
loads the event files the Go core writes, and every scalar and histogram is
checked against a numpy re-run of the same full-batch training. Our
read_scalar is checked against it too, on whole files and on files cut off
mid-record.
"""
import ctypes
import glob
import os
import shutil
import tempfile
import threading
import time

import numpy as np
import pytest

from bigdl.nn.criterion import ClassNLLCriterion
from bigdl.nn.layer import CAddTable, Input, Linear, LogSoftMax, Model, ReLU, Sequential
from bigdl.optim.optimizer import (SGD, EveryEpoch, Loss, MaxEpoch, MaxIteration, Optimizer, SeveralIteration,
                                   Top1Accuracy, TrainSummary, ValidationSummary)
from bigdl.util.common import RNG, Sample

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator",
                                        reason="tensorboard is not installed (tests/requirements.txt)")
from tensorboard.backend.event_processing import plugin_event_accumulator  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402


def _bigdl_limits():
    """BigDL's histogram bucket limits (visualization/Summary.scala: the
    same running products, not powers), with TensorFlow's last limit for
    larger values."""
    v, out = 1e-12, [0.0] * 1549
    for i in range(1, 775):
        out[774 + i], out[774 - i] = v, -v
        v *= 1.1
    return np.array(out + [np.finfo(np.float64).max])


LIMITS = _bigdl_limits()


def _accumulator(path):
    ea = event_accumulator.EventAccumulator(str(path), size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0, event_accumulator.GRAPH: 1})
    ea.Reload()
    return ea


def _full_buckets(h):
    """The 1550 bucket counts a TensorBoard HistogramValue stands for: its
    listed buckets at their limits' places, every other bucket empty."""
    full = np.zeros(len(LIMITS))
    idx = np.searchsorted(LIMITS, np.array(h.bucket_limit))
    assert np.array_equal(LIMITS[idx], np.array(h.bucket_limit)), "bucket limits that are not BigDL's"
    full[idx] = h.bucket
    return full


def _check_histogram(h, values, exact):
    values = np.asarray(values, dtype=np.float64).ravel()
    assert h.num == values.size
    if exact:  # the same float32 values: every statistic and every bucket
        assert (h.min, h.max) == (values.min(), values.max())
        np.testing.assert_allclose([h.sum, h.sum_squares], [values.sum(), (values ** 2).sum()], rtol=1e-12)
        want = np.bincount(np.searchsorted(LIMITS, values, side="left"), minlength=len(LIMITS))
        assert np.array_equal(_full_buckets(h), want)
    else:  # a float64 reference trajectory
        want = [values.min(), values.max(), values.sum(), (values ** 2).sum()]
        np.testing.assert_allclose([h.min, h.max, h.sum, h.sum_squares], want, rtol=1e-4, atol=1e-6)
        assert _full_buckets(h).sum() == values.size


def _data(n, seed):
    rs = np.random.RandomState(seed)
    y = rs.randint(0, 3, size=n)
    x = (np.random.RandomState(1).randn(3, 4)[y] + rs.randn(n, 4)).astype(np.float32)
    return x, (y + 1).astype(np.float32)


def _reference(w, b, x, y, xv, yv, lr, decay, iterations):
    """Full-batch SGD on Linear + LogSoftMax + ClassNLL in float64: per
    iteration k (1-based) the loss, learning rate, gradients and weights
    after the step, and the validation scores at those weights."""
    w, b = w.astype(np.float64), b.astype(np.float64)
    onehot = np.eye(3)[(y - 1).astype(int)]

    def scores(w, b):
        z = xv @ w.T + b
        logp = z - z.max(1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(1, keepdims=True))
        return {"Top1Accuracy": np.mean(np.argmax(z, 1) + 1 == yv),
                "Loss": -np.mean(logp[np.arange(len(yv)), (yv - 1).astype(int)])}

    out = []
    for k in range(1, iterations + 1):
        z = x @ w.T + b
        z -= z.max(1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        loss = -np.mean(np.log(p[onehot == 1]))
        g = (p - onehot) / len(x)
        gw, gb = g.T @ x, g.sum(0)
        rate = lr / (1 + (k - 1) * decay)
        w, b = w - rate * gw, b - rate * gb
        out.append({"loss": loss, "lr": rate, "gw": gw, "gb": gb, "w": w.copy(), "b": b.copy(), "val": scores(w, b)})
    return out


def _train_with_summaries(tmp_path, app="app"):
    x, y = _data(60, 2)
    xv, yv = _data(40, 3)
    RNG().set_seed(5)
    linear = Linear(4, 3)
    model = Sequential().add(linear).add(LogSoftMax())
    w0, b0 = [a.copy() for a in linear.get_weights()]
    opt = Optimizer(model, (x, y), ClassNLLCriterion(), MaxIteration(6), batch_size=60,
                    optim_method=SGD(learningrate=0.5, learningrate_decay=0.1))
    opt.set_validation(40, (xv, yv), SeveralIteration(2), [Top1Accuracy(), Loss()])
    train, val = TrainSummary(str(tmp_path), app), ValidationSummary(str(tmp_path), app)
    train.set_summary_trigger("LearningRate", SeveralIteration(1))
    train.set_summary_trigger("Parameters", SeveralIteration(3))
    assert opt.set_train_summary(train) is opt and opt.set_val_summary(val) is opt
    opt.optimize()
    ref = _reference(w0, b0, x, y, xv, yv, 0.5, 0.1, 6)
    return linear, train, val, ref


def test_tensorboard_reads_every_scalar_and_histogram(tmp_path):
    linear, train, val, ref = _train_with_summaries(tmp_path)
    train_dir, val_dir = tmp_path / "app" / "train", tmp_path / "app" / "validation"
    files = os.listdir(train_dir)
    assert len(files) == 1 and files[0].startswith("events.out.tfevents."), files

    ea = _accumulator(train_dir)
    assert sorted(ea.Tags()["scalars"]) == ["LearningRate", "Loss", "Throughput"]
    loss = ea.Scalars("Loss")
    assert [e.step for e in loss] == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose([e.value for e in loss], [r["loss"] for r in ref], rtol=1e-4)
    lr = ea.Scalars("LearningRate")
    assert [e.step for e in lr] == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose([e.value for e in lr], [r["lr"] for r in ref], rtol=1e-6)
    tp = ea.Scalars("Throughput")
    assert [e.step for e in tp] == [1, 2, 3, 4, 5, 6] and all(e.value > 0 for e in tp)
    now = time.time()
    assert all(now - 600 < e.wall_time <= now for e in loss)

    name = linear.name()
    assert sorted(ea.Tags()["histograms"]) == sorted(name + t for t in ("/weight", "/gradWeight", "/bias", "/gradBias"))
    for tag, key in (("/weight", "w"), ("/bias", "b"), ("/gradWeight", "gw"), ("/gradBias", "gb")):
        hs = ea.Histograms(name + tag)
        assert [h.step for h in hs] == [3, 6], tag
        for h in hs:
            _check_histogram(h.histogram_value, ref[h.step - 1][key], exact=False)
    # The last weights are the model's own: every bucket matches exactly.
    w, b = linear.get_weights()
    _check_histogram(ea.Histograms(name + "/weight")[-1].histogram_value, w, exact=True)
    _check_histogram(ea.Histograms(name + "/bias")[-1].histogram_value, b, exact=True)

    # TensorBoard's web UI reads through its plugin accumulator, which migrates our
    # simple values and histograms to its plugins' tensors: the same steps and numbers.
    pea = plugin_event_accumulator.EventAccumulator(str(train_dir), size_guidance={"tensors": 0})
    pea.Reload()
    assert sorted(pea.PluginTagToContent("scalars")) == ["LearningRate", "Loss", "Throughput"]
    assert sorted(pea.PluginTagToContent("histograms")) == sorted(ea.Tags()["histograms"])
    assert [(t.step, float(tensor_util.make_ndarray(t.tensor_proto))) for t in pea.Tensors("Loss")] == \
        [(e.step, e.value) for e in loss]
    buckets = tensor_util.make_ndarray(pea.Tensors(name + "/weight")[-1].tensor_proto)  # rows [left, right, count]
    top = ea.Histograms(name + "/weight")[-1].histogram_value
    assert buckets[:, 2].sum() == 12
    assert (buckets[0, 0], buckets[-1, 1]) == (pytest.approx(top.min), pytest.approx(top.max))

    # read_scalar: BigDL's rows (step, value, wall time), the same numbers TensorBoard read.
    rows = train.read_scalar("Loss")
    assert rows.shape == (6, 3)
    assert np.array_equal(rows, np.array([[e.step, e.value, e.wall_time] for e in loss]))
    assert train.read_scalar("NoSuchTag").shape == (0, 3)

    vea = _accumulator(val_dir)
    assert sorted(vea.Tags()["scalars"]) == ["Loss", "Top1Accuracy"]
    for tag in ("Top1Accuracy", "Loss"):
        got = vea.Scalars(tag)
        assert [e.step for e in got] == [2, 4, 6]
        np.testing.assert_allclose([e.value for e in got], [ref[e.step - 1]["val"][tag] for e in got], rtol=1e-4)
        assert np.array_equal(val.read_scalar(tag)[:, :2], [[e.step, e.value] for e in got])


def test_default_triggers_are_loss_and_throughput(tmp_path):
    x, y = _data(32, 2)
    opt = Optimizer(Sequential().add(Linear(4, 3)).add(LogSoftMax()), (x, y), ClassNLLCriterion(), MaxEpoch(2), 8)
    summary = TrainSummary(str(tmp_path), "defaults")
    opt.set_train_summary(summary)
    opt.optimize()
    ea = _accumulator(tmp_path / "defaults" / "train")
    assert sorted(ea.Tags()["scalars"]) == ["Loss", "Throughput"] and ea.Tags()["histograms"] == []
    assert [e.step for e in ea.Scalars("Loss")] == list(range(1, 9))
    assert summary.read_scalar("LearningRate").shape == (0, 3)


def test_a_later_run_counts_on(tmp_path):
    """BigDL's DistriOptimizer keeps "epoch" and "neval" in the optim method's state, so a later
    optimize() with the method goes on counting: set_end_when(MaxEpoch(4)) after two epochs trains
    two more (iterations 9 to 16 here), the same trigger again trains none, and so does a new
    Optimizer given the same method; a fresh method starts at iteration 1."""
    x, y = _data(32, 2)
    model = Sequential().add(Linear(4, 3)).add(LogSoftMax())
    method = SGD(learningrate=0.1)
    summary = TrainSummary(str(tmp_path), "counts")
    opt = Optimizer(model, (x, y), ClassNLLCriterion(), MaxEpoch(2), 8, method)
    opt.set_train_summary(summary)
    opt.optimize()
    assert list(summary.read_scalar("Loss")[:, 0]) == list(range(1, 9))
    opt.set_end_when(MaxEpoch(4))
    opt.optimize()
    assert list(summary.read_scalar("Loss")[:, 0]) == list(range(1, 17))
    w = model.get_weights()[0]
    opt.optimize()
    np.testing.assert_array_equal(model.get_weights()[0], w)
    again = Optimizer(model, (x, y), ClassNLLCriterion(), MaxEpoch(5), 8, method)
    again.set_train_summary(summary)
    again.optimize()
    assert list(summary.read_scalar("Loss")[:, 0]) == list(range(1, 21))
    fresh = TrainSummary(str(tmp_path), "fresh")
    opt = Optimizer(model, (x, y), ClassNLLCriterion(), MaxEpoch(1), 8, SGD(learningrate=0.1))
    opt.set_train_summary(fresh)
    opt.optimize()
    assert list(fresh.read_scalar("Loss")[:, 0]) == list(range(1, 5))


def _records(data):
    """Byte offsets where each record of an event file ends."""
    ends, off = [], 0
    while off < len(data):
        n = int.from_bytes(data[off:off + 8], "little")
        off += 16 + n
        ends.append(off)
    assert off == len(data)
    return ends


def test_file_cut_off_mid_record_reads_up_to_the_last_whole_record(tmp_path):
    _, train, _, ref = _train_with_summaries(tmp_path / "run")
    src = tmp_path / "run" / "app" / "train"
    data = (src / os.listdir(src)[0]).read_bytes()
    ends = _records(data)
    loss_ends = []  # where the record of each Loss scalar ends, in order
    whole = _accumulator(src).Scalars("Loss")
    for end in ends:
        head = _scalars_in(data[:end], tmp_path / "probe")
        if len(head) > len(loss_ends):
            loss_ends.append(end)
    assert len(loss_ends) == len(whole) == 6
    for k, end in enumerate(loss_ends[:-1]):
        for cut in (end + 1, end + 13, (end + loss_ends[k + 1]) // 2, loss_ends[k + 1] - 1):
            # TensorBoard's reader and ours both stop at the last whole record.
            got = _scalars_in(data[:cut], tmp_path / ("cut%d" % cut))
            assert [e.step for e in got] == list(range(1, k + 2)), cut
            summary = TrainSummary(str(tmp_path / ("ours%d" % cut)), "app")
            shutil.copy(tmp_path / ("cut%d" % cut) / "events.out.tfevents.1.cut",
                        tmp_path / ("ours%d" % cut) / "app" / "train" / "events.out.tfevents.1.cut")
            rows = summary.read_scalar("Loss")
            assert np.array_equal(rows, np.array([[e.step, e.value, e.wall_time] for e in got])), cut


def _scalars_in(data, d):
    d.mkdir(parents=True, exist_ok=True)
    (d / "events.out.tfevents.1.cut").write_bytes(data)
    ea = _accumulator(d)
    return ea.Scalars("Loss") if "Loss" in ea.Tags()["scalars"] else []


def test_graph_topology_in_tensorboard(tmp_path):
    inp = Input()
    a = Linear(4, 5).set_name("fc_a")(inp)
    r = ReLU().set_name("relu")(a)
    b = Linear(4, 5).set_name("fc_b")(inp)
    out = CAddTable().set_name("sum")([r, b])
    model = Model([inp], [out])
    assert model.save_graph_topology(str(tmp_path / "graph")) is model
    graph = _accumulator(tmp_path / "graph").Graph()
    nodes = {n.name: (n.op, list(n.input)) for n in graph.node}
    in_name = [k for k, v in nodes.items() if v[0] == "Input"]
    assert len(in_name) == 1
    assert nodes == {in_name[0]: ("Input", []), "fc_a": ("Linear", in_name), "relu": ("ReLU", ["fc_a"]),
                     "fc_b": ("Linear", in_name), "sum": ("CAddTable", ["relu", "fc_b"])}


def test_bad_input(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("")
    for cls in (TrainSummary, ValidationSummary):
        with pytest.raises(OSError, match=str(plain)):
            cls(str(plain), "app")
    with pytest.raises(OSError, match=str(plain)):
        _graph().save_graph_topology(str(plain / "g"))
    if os.getuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        with pytest.raises(OSError, match=str(ro)):
            TrainSummary(str(ro), "app")
    s = TrainSummary(str(tmp_path), "app")
    with pytest.raises(ValueError, match="Loss.*Throughput.*LearningRate.*Parameters"):
        s.set_summary_trigger("Accuracy", SeveralIteration(1))
    with pytest.raises(ValueError, match="trigger"):
        s.set_summary_trigger("Loss", 3)
    with pytest.raises(ValueError, match="log_dir"):
        TrainSummary("", "app")
    opt = Optimizer(Sequential().add(Linear(4, 3)), _data(8, 1), ClassNLLCriterion(), MaxEpoch(1), 4)
    with pytest.raises(ValueError, match="TrainSummary"):
        opt.set_train_summary(ValidationSummary(str(tmp_path), "app"))
    with pytest.raises(ValueError, match="ValidationSummary"):
        opt.set_val_summary(s)


def _graph():
    inp = Input()
    return Model([inp], [Linear(2, 2)(inp)])


def test_written_while_training(tmp_path):
    """TensorBoard sees the run while it trains: records reach the file
    within about a second, long before optimize() returns."""
    x, y = _data(64, 2)
    opt = Optimizer(Sequential().add(Linear(4, 3)).add(LogSoftMax()), (x, y), ClassNLLCriterion(),
                    MaxEpoch(10 ** 7), 8)
    summary = TrainSummary(str(tmp_path), "live")
    # Sparse records: this model trains ~10^5 iterations a second, and TensorBoard's
    # pure-Python reader would chase a file growing that fast.
    summary.set_summary_trigger("Loss", SeveralIteration(2000))
    summary.set_summary_trigger("Throughput", SeveralIteration(2000))
    opt.set_train_summary(summary)
    done = threading.Event()
    failure = []

    def run():
        try:
            opt.optimize()
        except KeyboardInterrupt:
            pass
        except Exception as e:  # reported by the test below
            failure.append(e)
        done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    seen = 0
    # Records are flushed within a second; the buffer's size alone (256 KiB) would
    # take these sparse records far longer than this to fill.
    deadline = time.time() + 10
    while time.time() < deadline and not seen:
        time.sleep(0.2)
        ea = _accumulator(tmp_path / "live" / "train")
        seen = len(ea.Scalars("Loss")) if "Loss" in ea.Tags()["scalars"] else 0
    running = not done.is_set()
    # Ctrl-C in that thread: optimize() cancels the run and re-raises.
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(t.ident), ctypes.py_object(KeyboardInterrupt))
    t.join(30)
    assert not failure, failure
    assert seen > 0 and running, "no Loss record reached the file while training ran"
    assert not t.is_alive()


@pytest.fixture(scope="module")
def sc():
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'bigdl-go[spark]')")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: PySpark needs a JVM")
    from pyspark import SparkContext
    from bigdl.util.common import create_spark_conf
    from conftest import PYTHON_DIR
    path = os.environ.get("PYTHONPATH", "")
    if str(PYTHON_DIR) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join([str(PYTHON_DIR)] + ([path] if path else []))
    conf = create_spark_conf().setMaster("local[2]").setAppName("bigdl-go-summary-tests")
    sc = SparkContext.getOrCreate(conf)
    sc.setLogLevel("ERROR")
    yield sc
    sc.stop()


def _spark_run(sc, log_dir, app, fault=None):
    x, y = _data(96, 2)
    xv, yv = _data(40, 3)
    train_rdd = sc.parallelize([Sample.from_ndarray(a, b) for a, b in zip(x, y)], 2)
    val_rdd = sc.parallelize([Sample.from_ndarray(a, b) for a, b in zip(xv, yv)], 2)
    RNG().set_seed(3)
    linear = Linear(4, 3)
    model = Sequential().add(linear).add(LogSoftMax())
    opt = Optimizer(model, train_rdd, ClassNLLCriterion(), MaxEpoch(3), 32,
                    SGD(learningrate=0.3, learningrate_decay=0.2))
    opt.set_validation(20, val_rdd, EveryEpoch(), [Top1Accuracy(), Loss()])
    train, val = TrainSummary(log_dir, app), ValidationSummary(log_dir, app)
    train.set_summary_trigger("LearningRate", SeveralIteration(1))
    train.set_summary_trigger("Parameters", SeveralIteration(1))
    opt.set_train_summary(train)
    opt.set_val_summary(val)
    if fault:
        sc.environment["BIGDL_TEST_FAIL_TASK"] = fault
    try:
        opt.optimize()
    finally:
        sc.environment.pop("BIGDL_TEST_FAIL_TASK", None)
    return linear, model, val_rdd, train


def test_spark_driver_writes_train_and_validation_summaries(sc, tmp_path):
    linear, model, val_rdd, train = _spark_run(sc, str(tmp_path), "spark")
    ea = _accumulator(tmp_path / "spark" / "train")
    loss = ea.Scalars("Loss")
    assert [e.step for e in loss] == list(range(1, 10))  # 3 epochs of 3 iterations, each recorded once
    assert all(np.isfinite(e.value) and e.value > 0 for e in loss)
    assert [e.step for e in ea.Scalars("Throughput")] == list(range(1, 10))
    np.testing.assert_allclose([e.value for e in ea.Scalars("LearningRate")],
                               [0.3 / (1 + 0.2 * k) for k in range(9)], rtol=1e-6)
    assert np.array_equal(train.read_scalar("Loss")[:, :2], [[e.step, e.value] for e in loss])
    # The driver's weights at each segment's end (one per epoch: validation ends a segment).
    hs = ea.Histograms(linear.name() + "/weight")
    assert [h.step for h in hs] == [3, 6, 9]
    w, b = linear.get_weights()
    _check_histogram(hs[-1].histogram_value, w, exact=True)
    _check_histogram(ea.Histograms(linear.name() + "/bias")[-1].histogram_value, b, exact=True)

    vea = _accumulator(tmp_path / "spark" / "validation")
    top1 = vea.Scalars("Top1Accuracy")
    assert [e.step for e in top1] == [3, 6, 9] and [e.step for e in vea.Scalars("Loss")] == [3, 6, 9]
    final = model.evaluate(val_rdd, 20, [Top1Accuracy(), Loss()])
    assert top1[-1].value == pytest.approx(final[0].result, abs=1e-6)
    assert vea.Scalars("Loss")[-1].value == pytest.approx(final[1].result, rel=1e-5)

    # Task 0 fails before iteration 5 on the stage's first attempt: Spark re-runs the
    # segment, whose iterations task 0 reports again; each step is still written once,
    # with the clean run's numbers.
    fault = "0:5:%d" % time.time_ns()
    _spark_run(sc, str(tmp_path), "faulty", fault=fault)
    # The hook leaves a marker when it fails the first attempt (bigdl/_spark.py's _test_hook).
    assert glob.glob(os.path.join(tempfile.gettempdir(), "bigdl-BIGDL_TEST_FAIL_TASK-%s-*" % fault.replace(":", "_")))
    fea = _accumulator(tmp_path / "faulty" / "train")
    assert [(e.step, e.value) for e in fea.Scalars("Loss")] == [(e.step, e.value) for e in loss]
    assert [h.step for h in fea.Histograms(_only_histogram_tag(fea))] == [3, 6, 9]
    fval = _accumulator(tmp_path / "faulty" / "validation")
    assert [(e.step, e.value) for e in fval.Scalars("Top1Accuracy")] == [(e.step, e.value) for e in top1]


def test_a_later_spark_run_counts_on(sc, tmp_path):
    """On Spark too a later optimize() with the method goes on from its epoch and iteration."""
    x, y = _data(96, 2)
    rdd = sc.parallelize([Sample.from_ndarray(a, b) for a, b in zip(x, y)], 2)
    model = Sequential().add(Linear(4, 3)).add(LogSoftMax())
    opt = Optimizer(model, rdd, ClassNLLCriterion(), MaxEpoch(1), 32, SGD(learningrate=0.3))
    summary = TrainSummary(str(tmp_path), "counts")
    opt.set_train_summary(summary)
    opt.optimize()
    assert list(summary.read_scalar("Loss")[:, 0]) == [1, 2, 3]
    opt.set_end_when(MaxEpoch(3))
    opt.optimize()
    assert list(summary.read_scalar("Loss")[:, 0]) == list(range(1, 10))


def _only_histogram_tag(ea):
    tags = [t for t in ea.Tags()["histograms"] if t.endswith("/weight")]
    assert len(tags) == 1, tags
    return tags[0]
