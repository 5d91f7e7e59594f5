"""Training, validation and prediction on Spark executors (real PySpark, local[2]).

Executor-side training is checked through Spark's own status (the status
tracker's stages: one barrier stage per run, one task per partition), not
through bigdl's log lines. Skips only when pyspark or Java is absent.
"""
import logging
import os
import shutil
import textwrap
import time

import numpy as np
import pytest

from conftest import PYTHON_DIR, _run_python, child_env

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'bigdl-go[spark]')")
if shutil.which("java") is None:
    pytest.skip("Java is not installed: PySpark needs a JVM", allow_module_level=True)

from bigdl.nn.criterion import ClassNLLCriterion  # noqa: E402
from bigdl.nn.layer import Dropout, Linear, LogSoftMax, ReLU, Sequential  # noqa: E402
from bigdl.optim.optimizer import (SGD, EveryEpoch, Loss, MaxEpoch, Optimizer,  # noqa: E402
                                   Top1Accuracy)
from bigdl.util.common import RNG, Sample  # noqa: E402


@pytest.fixture(scope="module")
def sc():
    from pyspark import SparkContext
    from bigdl.util.common import create_spark_conf
    # Spark's Python workers import bigdl from this checkout.
    path = os.environ.get("PYTHONPATH", "")
    if str(PYTHON_DIR) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join([str(PYTHON_DIR)] + ([path] if path else []))
    conf = create_spark_conf().setMaster("local[2]").setAppName("bigdl-go-tests")
    sc = SparkContext.getOrCreate(conf)
    sc.setLogLevel("ERROR")
    yield sc
    sc.stop()


def samples(X, y):
    return [Sample.from_ndarray(x, label) for x, label in zip(X, y)]


def mlp(seed, dropout=False):
    RNG().set_seed(seed)
    m = Sequential().add(Linear(10, 32)).add(ReLU())
    if dropout:
        m.add(Dropout(0.3))
    return m.add(Linear(32, 3)).add(LogSoftMax())


def data(n, seed):
    rs = np.random.RandomState(seed)
    centres = np.random.RandomState(99).randn(3, 10) * 1.5
    y = rs.randint(0, 3, size=n)
    X = (centres[y] + rs.randn(n, 10)).astype(np.float32)
    return X, (y + 1).astype(np.float32)


def barrier_stages_since(sc, before):
    """(id, name, tasks, completed tasks, attempt) of every stage run since `before` (a set of stage ids)."""
    st = sc.statusTracker()
    out = []
    for job in st.getJobIdsForGroup():
        info = st.getJobInfo(job)
        for sid in info.stageIds if info else ():
            s = st.getStageInfo(sid)
            if sid not in before and s is not None:
                out.append((sid, s.name, s.numTasks, s.numCompletedTasks, s.currentAttemptId))
    return out


def all_stage_ids(sc):
    st = sc.statusTracker()
    return {sid for job in st.getJobIdsForGroup() for sid in (st.getJobInfo(job).stageIds if st.getJobInfo(job) else ())}


def train(training, epochs=5, batch=32, val=None, seed=5, dropout=False):
    model = mlp(seed, dropout)
    opt = Optimizer(model=model, training_rdd=training, criterion=ClassNLLCriterion(),
                    end_trigger=MaxEpoch(epochs), optim_method=SGD(learningrate=0.1, momentum=0.5), batch_size=batch)
    if val is not None:
        opt.set_validation(batch_size=32, val_rdd=val, trigger=EveryEpoch(), val_method=[Loss(), Top1Accuracy()])
    opt.optimize()
    return model


def test_rdd_training_runs_on_executors_and_matches_list_training(sc, caplog):
    X, y = data(600, 0)
    Xt, yt = data(300, 1)
    test = samples(Xt, yt)
    local = train(samples(X, y), val=samples(Xt, yt))
    before = all_stage_ids(sc)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="bigdl"):
        dist = train(sc.parallelize(samples(X, y), 2), val=sc.parallelize(test, 2))
    stages = barrier_stages_since(sc, before)
    # One barrier stage for the five segments (5 epochs, validated every epoch), two tasks
    # (the barrier stage is the shuffle-map stage named after its partitionBy): the tasks
    # wait for the driver at each segment's end instead of exiting.
    training = [s for s in stages if "partitionBy at" in s[1] and "_spark.py" in s[1] and s[2] == s[3] == 2]
    assert len(training) == 1, stages
    assert sum("Top1Accuracy is Accuracy(correct:" in r.getMessage() for r in caplog.records) == 5
    # A DEBUG breakdown per segment: the first with the stage's start, the others from the
    # driver's "continue".
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG and r.getMessage().startswith(
        "segment ")]
    assert [l.split(":")[0] for l in lines] == ["segment %d" % i for i in range(5)], lines
    assert "rendezvous" in lines[0] and "in the tasks (slowest task): arrays" in lines[0], lines[0]
    assert all("in the tasks (slowest task): setup" in l and "continue and results back" in l and
               "validation" in l for l in lines[1:]), lines
    local_loss = local.evaluate(test, 32, [Loss()])[0].result
    dist_loss = dist.evaluate(test, 32, [Loss()])[0].result
    # Same data, seed and batch size; different batch composition (two partitions), so close, not equal.
    assert abs(local_loss - dist_loss) < 0.05 + 0.15 * local_loss, (local_loss, dist_loss)
    assert dist_loss < 0.5
    msgs = [r.getMessage() for r in caplog.records]
    assert any("[Iteration" in m and "Trained" in m for m in msgs), "no live progress from task 0"
    assert any("Top1Accuracy is Accuracy(correct:" in m for m in msgs), msgs[-5:]


def test_running_statistics_are_averaged_over_tasks_and_carried_between_segments(sc):
    """BatchNormalization on Spark: each task normalises its share of the batch (with the whole
    data set as one batch, its own partition) and the driver ends each segment with the tasks'
    running statistics averaged. With learning rate 0 and momentum 0.5, two one-epoch segments
    leave 0.25·initial + 0.75·(mean over partitions of their statistics); statistics that did
    not travel into the second segment would leave 0.5·initial + 0.5·(…)."""
    from bigdl.nn.criterion import MSECriterion
    from bigdl.nn.layer import BatchNormalization
    rs = np.random.RandomState(4)
    halves = [rs.randn(20, 4) * 0.5 + 2, rs.randn(20, 4) * 2 - 1]  # partitions with other statistics
    X = np.concatenate(halves).astype(np.float32)
    y = rs.randn(40, 1).astype(np.float32)
    model = Sequential().add(BatchNormalization(4, 1e-5, 0.5)).add(Linear(4, 1))
    opt = Optimizer(model=model, training_rdd=sc.parallelize(samples(X, y), 2), criterion=MSECriterion(),
                    end_trigger=MaxEpoch(2), optim_method=SGD(learningrate=0.0), batch_size=40)
    opt.set_validation(batch_size=40, val_rdd=sc.parallelize(samples(X, y), 2), trigger=EveryEpoch(),
                       val_method=[Loss(MSECriterion())])
    opt.optimize()
    mean, var = model._call("get_extra_parameters")[1]
    parts = [X[:20].astype(np.float64), X[20:].astype(np.float64)]
    part_mean = np.mean([p.mean(0) for p in parts], axis=0)
    part_var = np.mean([p.var(0, ddof=1) for p in parts], axis=0)
    np.testing.assert_allclose(mean, 0.75 * part_mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(var, 0.25 + 0.75 * part_var, rtol=1e-4)
    assert not np.allclose(var, 0.25 + 0.75 * X.var(0, ddof=1), rtol=1e-2)  # not the whole batch's


def test_evaluate_predict_on_rdd_match_lists(sc):
    X, y = data(301, 2)
    model = train(samples(X, y), epochs=1)
    rdd = sc.parallelize(samples(X, y), 3)
    local = model.evaluate(samples(X, y), 16, [Loss(), Top1Accuracy()])
    dist = model.evaluate(rdd, 16, [Loss(), Top1Accuracy()])
    for a, b in zip(local, dist):
        assert a.method == b.method and a.total_num == b.total_num == 301
        assert abs(a.result - b.result) < 1e-6, (a, b)
    out = model.predict(rdd)
    assert type(out).__name__ in ("RDD", "PipelinedRDD")
    np.testing.assert_allclose(np.stack(out.collect()), model.predict(X), rtol=1e-5, atol=1e-6)
    classes = model.predict_class(rdd)
    assert classes.collect() == [int(c) for c in model.predict_class(X)]


def test_fault_in_one_task_reruns_the_stage(sc, monkeypatch):
    # With Dropout: the re-run segment draws the same masks again.
    X, y = data(400, 3)
    ref = train(sc.parallelize(samples(X, y), 2), epochs=3, seed=7, dropout=True)
    sc.environment["BIGDL_TEST_FAIL_TASK"] = "1:20:%d" % time.time_ns()  # task 1 fails before iteration 20, first attempt only
    try:
        before = all_stage_ids(sc)
        got = train(sc.parallelize(samples(X, y), 2), epochs=3, seed=7, dropout=True)
    finally:
        del sc.environment["BIGDL_TEST_FAIL_TASK"]
    stages = barrier_stages_since(sc, before)
    assert any(s[4] > 0 and s[2] == s[3] == 2 for s in stages), "no stage was re-run: %s" % stages
    # The re-run segment starts from the weights the driver held: the result is the run without the fault.
    for a, b in zip(ref.get_weights(), got.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_silent_peer_fails_within_timeout_then_stage_reruns(sc, monkeypatch):
    X, y = data(400, 4)
    monkeypatch.setenv("BIGDL_SYNC_TIMEOUT", "3")
    ref = train(sc.parallelize(samples(X, y), 2), epochs=2, seed=8)
    sc.environment["BIGDL_TEST_HANG_TASK"] = "0:5:%d" % time.time_ns()  # task 0 stops answering before iteration 5
    before = all_stage_ids(sc)
    try:
        t0 = time.time()
        got = train(sc.parallelize(samples(X, y), 2), epochs=2, seed=8)
        elapsed = time.time() - t0
    finally:
        del sc.environment["BIGDL_TEST_HANG_TASK"]
    assert elapsed < 60, elapsed
    assert any(s[4] > 0 and s[2] == s[3] == 2 for s in barrier_stages_since(sc, before)), "no stage was re-run"
    for a, b in zip(ref.get_weights(), got.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_shared_memory_and_tcp_give_the_same_weights(sc, monkeypatch, caplog):
    # Tasks on one host exchange shards through shared memory unless told to use
    # TCP; the sums are taken in the same order either way, so the runs are equal.
    X, y = data(400, 9)
    weights = {}
    for transport, said in (("auto", "through shared memory"), ("tcp", "over TCP")):
        monkeypatch.setenv("BIGDL_SYNC_TRANSPORT", transport)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="bigdl"):
            weights[transport] = train(sc.parallelize(samples(X, y), 2), epochs=2, seed=9).get_weights()
        assert any("exchanged parameters " + said in r.getMessage() for r in caplog.records), transport
    for a, b in zip(weights["auto"], weights["tcp"]):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setenv("BIGDL_SYNC_TRANSPORT", "udp")
    with pytest.raises(ValueError, match="BIGDL_SYNC_TRANSPORT"):
        train(sc.parallelize(samples(X, y), 2), epochs=1)


def test_a_driver_error_between_segments_cancels_the_stage(sc, monkeypatch):
    # The tasks wait for the driver between segments; when the driver fails there, its
    # error reaches the caller at once and Spark's stage is cancelled, freeing the slots.
    from bigdl import _spark
    X, y = data(200, 15)
    combine = _spark.combine_scores
    calls = []

    def failing(parts, specs):
        calls.append(1)
        if len(calls) == 2:
            raise ArithmeticError("the driver failed at the second validation")
        return combine(parts, specs)

    monkeypatch.setattr(_spark, "combine_scores", failing)
    t0 = time.time()
    with pytest.raises(ArithmeticError, match="second validation"):
        train(sc.parallelize(samples(X, y), 2), epochs=4, val=sc.parallelize(samples(X, y), 2))
    assert time.time() - t0 < 60
    deadline = time.time() + 20
    while sc.statusTracker().getActiveStageIds() and time.time() < deadline:
        time.sleep(0.1)
    assert not sc.statusTracker().getActiveStageIds(), "the training stage still runs"
    monkeypatch.setattr(_spark, "combine_scores", combine)
    assert train(sc.parallelize(samples(X, y), 2), epochs=1).evaluate(samples(X, y), 32, [Loss()])[0].result < 1.0


def test_more_partitions_than_slots_is_repartitioned(sc, caplog):
    X, y = data(500, 5)
    Xt, yt = data(300, 6)
    with caplog.at_level(logging.INFO, logger="bigdl"):
        model = train(sc.parallelize(samples(X, y), 5), epochs=5)
    assert any("repartitioning it to 2" in r.getMessage() for r in caplog.records)
    assert model.evaluate(samples(Xt, yt), 32, [Loss()])[0].result < 0.5


def test_node_and_core_number_reflects_the_cluster(sc):
    from bigdl.util.common import get_node_and_core_number, init_engine
    init_engine()
    assert get_node_and_core_number() == (1, 2)


ONE_PARTITION = textwrap.dedent("""
    import numpy as np
    from pyspark import SparkContext
    from bigdl.util.common import create_spark_conf, init_engine, get_node_and_core_number, RNG, Sample
    from bigdl.nn.layer import Sequential, Linear, ReLU, Dropout, LogSoftMax
    from bigdl.nn.criterion import ClassNLLCriterion
    from bigdl.optim.optimizer import Optimizer, MaxEpoch, SGD, EveryEpoch, Loss
    # local[2] with 2 cores per task: one task slot using the same 2 cores as local training.
    sc = SparkContext.getOrCreate(create_spark_conf().setMaster("local[2]").set("spark.task.cpus", "2"))
    sc.setLogLevel("ERROR")
    init_engine()
    assert get_node_and_core_number()[1] == 2
    rs = np.random.RandomState(0)
    X = rs.randn(700, 64).astype(np.float32)
    y = (rs.randint(0, 4, 700) + 1).astype(np.float32)
    data = [Sample.from_ndarray(a, b) for a, b in zip(X, y)]
    # With Dropout, and validation every epoch: three segments, each resuming the
    # workers' Dropout streams where the last one left them.
    def run(training):
        RNG().set_seed(3)
        m = Sequential().add(Linear(64, 128)).add(ReLU()).add(Dropout(0.3)).add(Linear(128, 4)).add(LogSoftMax())
        opt = Optimizer(model=m, training_rdd=training, criterion=ClassNLLCriterion(), end_trigger=MaxEpoch(3),
                        optim_method=SGD(learningrate=0.05, momentum=0.9), batch_size=50)
        opt.set_validation(batch_size=50, val_rdd=data[:100], trigger=EveryEpoch(), val_method=[Loss()])
        opt.optimize()
        return m.get_weights()
    a = run(data)
    b = run(sc.parallelize(data, 1))
    for u, v in zip(a, b):
        assert np.array_equal(u, v), np.abs(u - v).max()
    # The three segments ran in one barrier stage: its task kept the model between them.
    st = sc.statusTracker()
    names = [st.getStageInfo(sid).name for job in st.getJobIdsForGroup() for sid in st.getJobInfo(job).stageIds]
    assert len([n for n in names if "partitionBy at" in n and "_spark.py" in n]) == 1, names
    print("IDENTICAL")
""")


def test_one_partition_gives_the_local_weights_bit_for_bit_in_one_stage():
    p = _run_python(code=ONE_PARTITION, timeout=240, env=child_env())
    assert p.returncode == 0 and "IDENTICAL" in p.stdout, p.stderr[-3000:]


def test_cluster_without_slots_is_refused_up_front(sc, monkeypatch):
    # Spark refuses to start a local master with fewer cores than spark.task.cpus, so a
    # cluster without a free slot (e.g. executors smaller than spark.task.cpus) is simulated.
    from bigdl import _spark
    monkeypatch.setattr(_spark, "task_slots", lambda sc, want=1, wait=None: (0, 4))
    X, y = data(40, 7)
    with pytest.raises(ValueError, match="no task slot"):
        train(sc.parallelize(samples(X, y), 2), epochs=1)


def test_a_task_that_never_registers_fails_the_others_at_the_deadline(sc, monkeypatch, caplog):
    X, y = data(200, 10)
    monkeypatch.setenv("BIGDL_SYNC_TIMEOUT", "3")
    sc.environment["BIGDL_TEST_SKIP_REGISTER"] = "1:1:%d" % time.time_ns()  # first attempt only
    before = all_stage_ids(sc)
    try:
        with caplog.at_level(logging.INFO, logger="bigdl"):
            train(sc.parallelize(samples(X, y), 2), epochs=1, seed=10)
    finally:
        del sc.environment["BIGDL_TEST_SKIP_REGISTER"]
    msgs = [r.getMessage() for r in caplog.records]
    assert any("rank 1 did not register with the driver within 3s" in m and "registered: 0" in m for m in msgs), msgs
    assert any("training on Spark finished" in m for m in msgs)
    assert any(s[4] > 0 and s[2] == s[3] == 2 for s in barrier_stages_since(sc, before)), "no stage was re-run"


def _intrude(address, kind, rank):
    import socket
    import struct
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=2) as s:
        if kind == "garbage":
            s.sendall(b"GET / HTTP/1.0\r\n\r\n and more bytes than a greeting")
        elif kind == "wrong secret":  # well-formed greeting as a real rank, then a proof made without the secret
            s.sendall(b"BDLA" + struct.pack("<I", rank) + os.urandom(16) + os.urandom(32))
        # "scan": connect and close


def test_intruders_are_rejected_and_logged_and_training_is_undisturbed(sc, caplog):
    from bigdl import _spark
    X, y = data(300, 11)
    ref = train(sc.parallelize(samples(X, y), 2), epochs=2, seed=11).get_weights()
    kinds = ["garbage", "wrong secret", "scan"]
    attacked = []

    def attack(peers, channel):
        if attacked:
            return
        attacked.append(peers)
        for address in peers + [channel]:
            for kind in kinds:
                _intrude(address, kind, 0)

    _spark._test_before_peers = attack
    try:
        with caplog.at_level(logging.INFO, logger="bigdl"):
            got = train(sc.parallelize(samples(X, y), 2), epochs=2, seed=11).get_weights()
    finally:
        _spark._test_before_peers = None
    assert attacked, "the test's intruders never ran"
    msgs = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    channel = [m for m in msgs if "the training channel rejected a connection from 127.0.0.1:" in m]
    assert len(channel) == len(kinds), msgs
    for rank in range(2):
        mesh = [m for m in msgs if m.startswith("task %d: dist: rank %d: rejected a connection from 127.0.0.1:" % (rank, rank))]
        assert len(mesh) == len(kinds), (rank, msgs)
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)


def test_array_blocks_are_built_once_per_run_and_a_rerun_stage_reads_them(sc, tmp_path, caplog):
    # Three segments (validation every epoch) and, in the second run, a failed and re-run
    # stage: each partition of the training and validation sets becomes arrays once per run.
    # The re-run starts at the second segment (iteration 20 is in the second epoch of 13
    # iterations), from the weights, optim state and Dropout streams the driver holds.
    X, y = data(400, 12)
    Xv, yv = data(100, 13)
    weights, built = {}, {}
    for run, fault in (("clean", None), ("faulty", "1:20:%d" % time.time_ns())):
        caplog.clear()
        hook = tmp_path / run
        hook.mkdir()
        sc.environment["BIGDL_TEST_COUNT_BLOCKS"] = str(hook)
        if fault:
            sc.environment["BIGDL_TEST_FAIL_TASK"] = fault
        before = all_stage_ids(sc)
        try:
            with caplog.at_level(logging.INFO, logger="bigdl"):
                weights[run] = train(sc.parallelize(samples(X, y), 2), epochs=3, seed=12, dropout=True,
                                     val=sc.parallelize(samples(Xv, yv), 3)).get_weights()
        finally:
            sc.environment.pop("BIGDL_TEST_FAIL_TASK", None)
            del sc.environment["BIGDL_TEST_COUNT_BLOCKS"]
        built[run] = sorted(p.name.rsplit("-", 1)[0] for p in hook.iterdir())
        reruns = [r.getMessage() for r in caplog.records if "a re-run of the stage starts" in r.getMessage()]
        assert reruns == (["training on Spark: a re-run of the stage starts at segment 1"] if fault else []), reruns
        # Each epoch validated once: the re-run did not repeat the first segment.
        assert sum("Loss is (Loss:" in r.getMessage() for r in caplog.records) == 3
        if fault:
            assert any(s[4] > 0 and s[2] == s[3] == 2 for s in barrier_stages_since(sc, before)), "no stage was re-run"
    for run in built:
        assert built[run] == ["training_rdd-0", "training_rdd-1", "val_rdd-0", "val_rdd-1"], (run, built[run])
    for a, b in zip(weights["clean"], weights["faulty"]):
        np.testing.assert_array_equal(a, b)


def _weight_runs(weights):
    """Byte strings of 8 consecutive float32 weights, from across the model."""
    flat = np.concatenate([np.asarray(w, dtype=np.float32).ravel() for w in weights])
    return [flat[i:i + 8].tobytes() for i in range(0, flat.size - 8, max(1, flat.size // 16))]


def relayed_training(X, y, seed):
    """Trains with rank 1 reaching rank 0 through a relay (over TCP); returns
    the weights and the bytes the relay saw."""
    from bigdl import _spark
    from test_channel import Relay
    relays = []

    def through_relay(peers, channel):
        relays.append(Relay(peers[0]))
        return [relays[-1].address] + peers[1:]

    _spark._test_before_peers = through_relay
    os.environ["BIGDL_SYNC_TRANSPORT"] = "tcp"
    try:
        sc = __import__("pyspark").SparkContext._active_spark_context
        weights = train(sc.parallelize(samples(X, y), 2), epochs=1, seed=seed).get_weights()
    finally:
        _spark._test_before_peers = None
        del os.environ["BIGDL_SYNC_TRANSPORT"]
        for r in relays:
            r.close()
    return weights, b"".join(bytes(r.seen) for r in relays)


ENCRYPTED = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, %r)
    from pyspark import SparkContext
    from bigdl.util.common import create_spark_conf
    import test_distributed as t
    conf = (create_spark_conf().setMaster("local[2]").set("spark.authenticate", "true")
            .set("spark.network.crypto.enabled", "true"))
    sc = SparkContext.getOrCreate(conf)
    sc.setLogLevel("ERROR")
    X, y = t.data(300, 14)
    weights, seen = t.relayed_training(X, y, 14)
    np.savez(%r, *weights)
    print("RELAYED", len(seen), sum(run in seen for run in t._weight_runs(weights)))
""")


def test_with_spark_crypto_the_mesh_carries_no_weights_and_trains_the_same(sc, tmp_path):
    X, y = data(300, 14)
    plain, seen = relayed_training(X, y, 14)
    # The control: without encryption the relay sees the weights, so the check can fail.
    assert sum(run in seen for run in _weight_runs(plain)) > 0, len(seen)
    out = tmp_path / "encrypted.npz"
    p = _run_python(code=ENCRYPTED % (os.path.dirname(os.path.abspath(__file__)), str(out)), timeout=300,
                    env=child_env())
    assert p.returncode == 0, p.stderr[-3000:]
    line = [l for l in p.stdout.splitlines() if l.startswith("RELAYED")][-1].split()
    assert int(line[1]) > 4 * sum(w.size for w in plain), line  # the mesh's traffic went through the relay
    assert line[2] == "0", "the relay saw %s runs of the weights in clear" % line[2]
    got = np.load(out)
    for i, a in enumerate(plain):
        np.testing.assert_array_equal(a, got["arr_%d" % i])
