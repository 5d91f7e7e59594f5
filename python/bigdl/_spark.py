"""Training, validation and prediction on Spark executors.

Training (BigDL's DistriOptimizer, synchronous data parallelism): each
optimize() turns the training RDD into a persisted RDD of array blocks once
(one block per partition, each paired with a share of the validation set)
and trains in one barrier stage with one task per partition. Each task reads
its block, loads the model the driver broadcast, and runs the Go training
loop on its share of every global mini-batch; the tasks sum gradients and
exchange updated weights peer to peer over TCP or shared memory (core/dist),
every connection authenticated on a secret the driver draws for the run.

The run is cut into segments at its validation and checkpoint triggers. At
a segment's end each task scores its share of the validation set if the
validation trigger ended it, sends its shard of the weights and of the optim
method's state to the driver, and waits: the driver holds the shards,
combines and logs the scores, writes summaries and checkpoints, decides the
end trigger, and answers "continue" (with the positions it updated, such as
the validation score) or "stop". A stage that fails is re-run by Spark; its
tasks start from the last segment the driver completed. When Spark's own
retries are spent, the driver starts a new stage from the last checkpoint
(bigdl.failure.retryTimes).

Tasks talk to the driver over one authenticated channel per run
(bigdl/_channel.py): they register there and receive their peers'
addresses, task 0 streams its progress lines, which the driver logs to the
`bigdl` logger, and the scalars its TrainSummary records, which the driver
writes (with the weights' histograms and the validation scores: see
_DriverSummaries), every task sends its results, and the driver its answers.

The native library is loaded inside the tasks (bigdl._native loads lazily),
never before Spark's Python workers fork.
"""
import base64
import copy
import logging
import os
import socket
import tempfile
import time

import numpy as np

from bigdl import _channel, _native
from bigdl._arrays import features_and_labels
from bigdl.optim._progress import progress_bar
from bigdl.util.common import bigdl_logger

DEFAULT_SYNC_TIMEOUT = 90.0


def sync_timeout():
    """Seconds any task waits for a peer (BIGDL_SYNC_TIMEOUT, default 90)."""
    v = os.environ.get("BIGDL_SYNC_TIMEOUT")
    if not v:
        return DEFAULT_SYNC_TIMEOUT
    try:
        t = float(v)
        if t > 0:
            return t
    except ValueError:
        pass
    raise ValueError("BIGDL_SYNC_TIMEOUT must be a positive number of seconds, got %r" % v)


def sync_transport():
    """How tasks on one host exchange shards (BIGDL_SYNC_TRANSPORT): "auto" (the
    default: shared memory when every task can map it, else TCP) or "tcp"."""
    v = os.environ.get("BIGDL_SYNC_TRANSPORT") or "auto"
    if v not in ("auto", "tcp"):
        raise ValueError('BIGDL_SYNC_TRANSPORT must be "auto" or "tcp", got %r' % v)
    return v


def _shard(rank, ranks, n):
    return rank * n // ranks, (rank + 1) * n // ranks


# Models travel as the bytes of a saved model file ------------------------------

def model_bytes(model):
    fd, path = tempfile.mkstemp(suffix=".bigdl")
    os.close(fd)
    try:
        model.save(path, over_write=True)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def _load_model(data):
    """A Go module handle from saved-model bytes (inside a task)."""
    fd, path = tempfile.mkstemp(suffix=".bigdl")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        handle, _ = _native.call(0, "load", {"path": path})
        return handle
    finally:
        os.unlink(path)


# Task slots ------------------------------------------------------------------

def task_slots(sc, want=1, wait=None):
    """(slots, cores per task): how many tasks the cluster runs at once.

    A cluster's executors register a few seconds after the context starts, so
    this waits (up to BIGDL_EXECUTOR_WAIT seconds, default 15) for `want`
    slots before settling for fewer."""
    cpus = int(sc.getConf().get("spark.task.cpus", "1"))
    if wait is None:
        wait = float(os.environ.get("BIGDL_EXECUTOR_WAIT", "15"))
    deadline = time.time() + wait
    while True:
        try:
            jsc = sc._jsc.sc()
            slots = int(jsc.maxNumConcurrentTasks(jsc.resourceProfileManager().defaultResourceProfile()))
        except Exception:
            slots = sc.defaultParallelism // cpus
        if slots >= want or time.time() > deadline or (sc.master or "").startswith("local"):
            return slots, cpus
        time.sleep(0.5)  # executors of a cluster may still be registering


# The training task ---------------------------------------------------------------

def _test_hook(name, rank, ctx):
    """BIGDL_TEST_FAIL_TASK / BIGDL_TEST_HANG_TASK = "partition:iteration[:tag]":
    the iteration before which this task fails (or stops answering), on the
    first attempt of a stage only (a marker file, named by the setting and the
    stage, tells a re-run from the first attempt; Python's TaskContext does
    not expose the stage attempt)."""
    spec = os.environ.get(name)
    if not spec:
        return 0
    part, it = spec.split(":")[:2]
    if int(part) != rank:
        return 0
    marker = os.path.join(tempfile.gettempdir(), "bigdl-%s-%s-%d" % (
        name, "".join(c if c.isalnum() else "_" for c in spec), ctx.stageId()))
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return 0  # a re-run of the stage
    return int(it)


def _fail_every_attempt(rank, ctx):
    """BIGDL_TEST_FAIL_STAGE = "partition:iteration:tag": the iteration before which this task
    fails on every attempt of one stage: the first stage whose task failed there (its id, in a
    marker file named by the setting, is written when the task fails; see _stage_failed). A
    later stage (after the driver restarted from a checkpoint) runs unharmed."""
    spec = os.environ.get("BIGDL_TEST_FAIL_STAGE")
    if not spec:
        return 0
    part, it = spec.split(":")[:2]
    if int(part) != rank:
        return 0
    try:
        with open(_fail_stage_marker(spec)) as f:
            if int(f.read() or -1) != ctx.stageId():
                return 0
    except FileNotFoundError:
        pass
    return int(it)


def _fail_stage_marker(spec):
    return os.path.join(tempfile.gettempdir(), "bigdl-BIGDL_TEST_FAIL_STAGE-%s" % "".join(
        c if c.isalnum() else "_" for c in spec))


def _stage_failed(ctx):
    spec = os.environ.get("BIGDL_TEST_FAIL_STAGE")
    if spec:
        try:
            fd = os.open(_fail_stage_marker(spec), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        with os.fdopen(fd, "w") as f:
            f.write(str(ctx.stageId()))


def mesh_host(channel):
    """The address this task's mesh port binds and advertises: BIGDL_MESH_HOST,
    else the interface its connection to the driver left through (the one
    that routes to the driver, so likely to the other executors too)."""
    return os.environ.get("BIGDL_MESH_HOST") or channel.sock.getsockname()[0]


def mesh_ports(name="BIGDL_MESH_PORTS"):
    """A port range "lo-hi" from the environment: the ports the mesh (on the
    executors, BIGDL_MESH_PORTS) or the driver's channel (BIGDL_DRIVER_PORTS)
    may listen on, for a firewalled cluster that opens only that range;
    unset, the system picks a free port."""
    v = os.environ.get(name)
    if not v:
        return None
    try:
        lo, hi = (int(x) for x in v.split("-"))
        if 0 < lo <= hi < 65536:
            return [lo, hi]
    except ValueError:
        pass
    raise ValueError('%s must be a port range "lo-hi", got %r' % (name, v))


def _await_driver(ch, rank, wait, kinds, what):
    """The driver's next message of one of kinds; its "wait" messages (sent
    while it ends a segment) restart the deadline."""
    deadline = time.time() + wait
    while True:
        try:
            msg = ch.recv(deadline)
        except EOFError:
            raise RuntimeError("task %d: the driver closed the training channel before sending %s" % (rank, what))
        if msg is None:
            raise TimeoutError("task %d: the driver sent no %s within %gs" % (rank, what, wait))
        kind = msg.get("type")
        if kind in kinds:
            return msg
        if kind == "wait":
            deadline = time.time() + wait
        elif kind == "error":
            raise RuntimeError("task %d: %s" % (rank, msg.get("message")))


def _rendezvous(ch, p, rank, addr):
    """Registers this task with the driver; returns the driver's answer: every
    rank's address and where to start, or "stop" (the run ended)."""
    ch.send({"type": "register", "stage": p["stage"], "rank": rank, "addr": addr})
    # The driver's own deadline fires first and names the missing rank.
    return _await_driver(ch, rank, p["timeout"] + 10, ("peers", "stop"), "peer list")


def _train_partition(payload, iterator):
    """One task of a run's barrier stage: trains every segment of the run
    (from the broadcast's, or, in a re-run of the stage, from the last one
    the driver completed), sending its results at each segment's end and
    waiting for the driver's "continue" or "stop"."""
    from pyspark import BarrierTaskContext
    ctx = BarrierTaskContext.get()
    rank = ctx.partitionId()
    p = payload.value
    clock = {"start": time.time()}
    elements = list(iterator)
    val = None
    if len(elements) == 1 and isinstance(elements[0], tuple):  # (training block, validation block)
        elements, val = [elements[0][0]], elements[0][1]
    x, y = _block_arrays(elements, "training_rdd partition %d" % rank)
    if val is not None and p["val"] is not None:
        val = _block_arrays([val], "val_rdd partition %d" % rank)
    clock["arrays"] = time.time()
    handles = []
    ch = None
    try:
        if _test_hook("BIGDL_TEST_SKIP_REGISTER", rank, ctx):
            time.sleep(p["timeout"] + 5)  # neither registers nor answers; the others must not wait past the deadline
            raise RuntimeError("task %d: test hook BIGDL_TEST_SKIP_REGISTER" % rank)
        ch = _channel.connect(p["channel"], p["secret"], rank, p["timeout"], p["encrypt"])
        comm = _native.new("Comm", {"host": mesh_host(ch), "ports": mesh_ports()})
        handles.append(comm)
        addr, _ = _native.call(comm, "address")
        answer = _rendezvous(ch, p, rank, addr)
        if answer["type"] == "stop":
            return []
        group, start = answer["group"], answer["start"]
        clock["peers"] = time.time()
        connected, _ = _native.call(comm, "connect", {"rank": rank, "peers": answer["peers"], "timeout": p["timeout"],
                                                      "transport": p["transport"], "secret": p["secret"],
                                                      "encrypt": p["encrypt"]})
        if connected["rejected"]:
            ch.send({"type": "rejected", "lines": connected["rejected"]})
        clock["mesh"] = time.time()
        model = _load_model(p["model"])
        handles.append(model)
        crit = _native.new(p["criterion"]["class"], p["criterion"]["args"])
        handles.append(crit)
        lo, hi = _shard(rank, p["ranks"], p["num_params"])
        if start is None:
            segment, resume = p["segment"], p["resume"][rank]
            mstate = {"t": p["method_t"], "extra": p["method_extra"]}
            whole = (p["method_extra"] or {}).get("whole")
            bufs = [b if whole else b[lo:hi] for b in p["method_bufs"]]
        else:  # a re-run of the stage: from the last segment the driver completed
            segment, resume, mstate = start["segment"], start["resume"], start["mstate"]
            _native.call(model, "set_flat_weights", tensors=[_unb64(start["weights"])])
            _native.call(model, "set_flat_extra", tensors=[_unb64(start["extra"])])
            bufs = [_unb64(b) for b in start["bufs"]]
        # The test hooks arm once per attempt of the stage, whichever segment they fire in.
        hooks = {"fail_at": _test_hook("BIGDL_TEST_FAIL_TASK", rank, ctx) or _fail_every_attempt(rank, ctx),
                 "hang_at": _test_hook("BIGDL_TEST_HANG_TASK", rank, ctx)}
        task = {"rank": rank, "ctx": ctx, "ch": ch, "comm": comm, "model": model, "crit": crit, "lo": lo, "hi": hi,
                "hooks": hooks}
        while True:
            state, weights, extra, mstate, bufs, sent, scores = _train_segment(p, task, x, y, val, resume, mstate,
                                                                               bufs, clock)
            # The result travels on the channel: the stage is a map stage with no
            # output, so no second stage collects it (see _Stage).
            result = {"type": "result", "segment": segment, "group": group, "state": state,
                      "weights": _b64(weights), "extra": _b64(extra),
                      "mstate": {"t": mstate["t"], "extra": mstate.get("extra")},
                      "bufs": [_b64(b) for b in sent], "scores": scores, "seconds": _phases(clock)}
            if "arrays" in clock:
                result["started"] = clock["start"]
            ch.send(result)
            answer = _await_driver(ch, rank, p["timeout"] + 10, ("continue", "stop"),
                                   "answer to segment %d's result" % segment)
            if answer["type"] == "stop":
                return []
            segment, resume = answer["segment"], answer["resume"]
            clock = {"start": time.time()}
    finally:
        for h in reversed(handles):  # freeing the Comm closes every socket
            _native.free(h)
        if ch is not None:
            ch.close()


def _new_method(p, model):
    """The run's optim method(s), as handles (the last is the one to train with)."""
    if p["method"]["class"] == "PerModule":  # a dict {submodule name: OptimMethod}
        subs = {n: _native.new(c["class"], c["args"]) for n, c in p["method"]["args"]["methods"].items()}
        return list(subs.values()) + [_native.new("PerModule", {"model": model, "methods": subs})]
    return [_native.new(p["method"]["class"], p["method"]["args"])]


def _train_segment(p, task, x, y, val, resume, mstate, bufs, clock):
    """Trains one segment from resume with the optim method in (mstate, bufs);
    returns (state, weights shard, extra shard, the method's state and buffers
    for the next segment, the buffers to send, validation scores or None).

    The model stays loaded between segments (after the last all-gather it
    holds what the driver holds); the optim method is made anew from its
    state, as the Go loop shards its per-parameter settings for one run."""
    rank, ranks, model, lo, hi = task["rank"], p["ranks"], task["model"], task["lo"], task["hi"]
    methods = _new_method(p, model)
    opt = None
    try:
        method = methods[-1]
        _native.call(method, "set_state", {"t": mstate["t"], "extra": mstate.get("extra")}, bufs)
        config = {"model": model, "criterion": task["crit"], "optim_method": method, "batch_size": p["batch_size"],
                  "end_trigger": p["end_trigger"], "cores": p["cores"], "clip": p["clip"],
                  "summary_triggers": p["summary_triggers"] if rank == 0 else None,
                  "dist": dict({"comm": task["comm"], "total": p["total"], "seed": p["seed"], "rng": p["rng"],
                                "stop": p["stop"], "resume": resume}, **task["hooks"])}
        opt = _native.new("Optimizer", config)
        _native.call(opt, "set_data", {"which": "train"}, [x, y])
        clock["setup"] = time.time()
        _native.call(opt, "start")
        reported = None  # the iteration task 0 last sent (the driver's progress bar follows it)
        while True:
            status, _ = _native.call(opt, "wait", {"seconds": 0.2})
            if rank == 0 and (status["lines"] or status["iteration"] != reported):
                reported = status["iteration"]
                try:
                    task["ch"].send(dict({k: status[k] for k in ("lines", "epoch", "iteration", "epoch_records",
                                                                 "loss")}, type="progress"))
                except OSError:
                    pass  # progress is a convenience: training goes on without it
            if status.get("scalars"):
                task["ch"].send({"type": "summary", "scalars": status["scalars"]})  # before the result, on one connection
            if not status["running"]:
                break
        if "error" in status:
            if "injected failure" in status["error"]:
                _stage_failed(task["ctx"])
            raise _native.error_for(status["status"], "task %d of %d: %s" % (rank, ranks, status["error"]))
        clock["train"] = time.time()
        state, _ = _native.call(opt, "dist_state")
        state["transport"], _ = _native.call(task["comm"], "transport")
        weights = _native.call(model, "get_flat_weights")[1][0][lo:hi]
        # Running statistics: the tasks averaged them at the segment's end, so each sends its shard.
        extra = _native.call(model, "get_flat_extra")[1][0]
        extra = extra[slice(*_shard(rank, ranks, extra.size))]
        mstate, bufs = _native.call(method, "get_state")
        # A method whose update spans the whole vector (LBFGS) keeps all of it on every task;
        # the driver joins the tasks' shards of it.
        sent = [b[lo:hi] for b in bufs] if (mstate.get("extra") or {}).get("whole") else bufs
        clock["state"] = time.time()
        scores = None
        if state["stopped"] and val is not None and val[0] is not None:
            # Every task holds the whole model after the last all-gather: each
            # scores its share of the validation set, and the driver combines them.
            scores, _ = _native.call(model, "evaluate", p["val"], list(val))
            clock["validation"] = time.time()
        return state, weights, extra, mstate, bufs, sent, scores
    finally:
        if opt is not None:
            try:
                _native.call(opt, "cancel")
                while _native.call(opt, "wait", {"seconds": 1.0})[0]["running"]:
                    pass
            except Exception:
                pass
            _native.free(opt)
        for h in reversed(methods):
            _native.free(h)


def _b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.float32).tobytes()).decode("ascii")


def _unb64(s):
    return np.frombuffer(base64.b64decode(s), dtype=np.float32).copy()


def _phases(clock):
    """Seconds between a task's checkpoints, in order."""
    names = list(clock)
    return {n: round(clock[n] - clock[names[i]], 6) for i, n in enumerate(names[1:])}


# Driver --------------------------------------------------------------------------

# Array blocks: each partition turned into arrays once per run -------------------------

BLOCK_VERSION = 1


def _to_blocks(what):
    """A mapPartitionsWithIndex function turning a partition of Sample into
    one array block: {"version", "count", "features": [ndarray, ...],
    "labels": [ndarray, ...], "feature_nest", "label_nest"}. The lists carry
    a record's tensors in order (one each today); a nest, when not None, is
    the JSON nesting of a table over them, so multi-input models and table
    labels keep the format."""
    def convert(index, iterator):
        records = list(iterator)
        block = {"version": BLOCK_VERSION, "count": len(records), "features": [], "labels": [],
                 "feature_nest": None, "label_nest": None}
        if records:
            x, y = features_and_labels(records, "%s partition %d" % (what, index))
            block["features"], block["labels"] = [x], [y]
        hook = os.environ.get("BIGDL_TEST_COUNT_BLOCKS")
        if hook:  # a file per conversion, so tests can count them across processes
            fd, _ = tempfile.mkstemp(prefix="%s-%d-" % (what, index), dir=hook)
            os.close(fd)
        yield block
    return convert


def _block_arrays(blocks, what):
    """(features, labels) of the one block a partition of a block RDD holds."""
    blocks = list(blocks)
    if len(blocks) != 1 or blocks[0].get("version") != BLOCK_VERSION:
        raise RuntimeError("%s: expected one array block of version %d per partition, got %d"
                           % (what, BLOCK_VERSION, len(blocks)))
    b = blocks[0]
    if not b["count"]:
        return None, None
    return b["features"][0], b["labels"][0]


def _blocks(rdd, what):
    """rdd as a persisted RDD of array blocks, and its record counts per
    partition (the job that counts them builds them)."""
    from pyspark import StorageLevel
    blocks = rdd.mapPartitionsWithIndex(_to_blocks(what)).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = blocks.map(lambda b: b["count"]).collect()
    except BaseException:
        blocks.unpersist()
        raise
    return blocks, counts


def _prepare_training_rdd(opt, log):
    """The training RDD as persisted array blocks, with no more partitions
    than task slots and none empty; the caller unpersists them."""
    rdd = opt._training_data
    sc = rdd.context
    slots, cpus = task_slots(sc, want=rdd.getNumPartitions())
    if slots < 1:
        raise ValueError("the Spark cluster cannot run a training task: it offers no task slot "
                         "(spark.task.cpus=%d; master %s, default parallelism %d); training needs at least one "
                         "executor with spark.task.cpus free cores" % (cpus, sc.master, sc.defaultParallelism))
    parts = rdd.getNumPartitions()
    if parts > slots:
        log.info("training_rdd has %d partitions but the cluster runs %d tasks at once: repartitioning it to %d "
                 "(training runs one task per partition, all at the same time)", parts, slots, slots)
        rdd = rdd.repartition(slots)
    blocks, counts = _blocks(rdd, "training_rdd")
    if counts and 0 < sum(counts) and min(counts) == 0:
        n = min(len([c for c in counts if c > 0]), slots)
        log.info("training_rdd has empty partitions: repartitioning it to %d", n)
        blocks.unpersist()
        blocks, counts = _blocks(opt._training_data.repartition(n), "training_rdd")
    if sum(counts) == 0 or min(counts) == 0:
        blocks.unpersist()
        if sum(counts) == 0:
            raise ValueError("training_rdd is empty: it needs at least one record")
        raise ValueError("training_rdd has an empty partition after repartitioning (%s records per partition)" % counts)
    return blocks, counts


# Tests set this to act on a segment's peer list before the tasks receive it.
_test_before_peers = None


def wants_encryption(sc):
    """Whether the application asked Spark to encrypt its traffic: then the
    mesh and the channel are encrypted too."""
    conf = sc.getConf()
    return any(conf.get(k, "false").strip().lower() == "true"
               for k in ("spark.network.crypto.enabled", "spark.ssl.enabled"))


def driver_addresses(sc):
    """(bind, advertise): where the driver's channel listens and the address
    tasks dial: spark.driver.bindAddress and spark.driver.host, as Spark's own
    driver endpoints; 127.0.0.1 for a local master."""
    conf = sc.getConf()
    if (sc.master or "").startswith("local"):
        return "127.0.0.1", "127.0.0.1"
    host = conf.get("spark.driver.host", None) or socket.gethostbyname(socket.gethostname())
    if host == "localhost":
        host = "127.0.0.1"
    return conf.get("spark.driver.bindAddress", None) or host, host


def optimize(opt):
    """Optimizer.optimize() for a training RDD: trains on the executors and
    leaves the final weights (and optim state) in opt.model / opt.optim_method."""
    from bigdl.util.common import is_spark_rdd
    log = bigdl_logger()
    rdd, counts = _prepare_training_rdd(opt, log)
    persisted = [rdd]
    try:
        v = opt._validation
        if v is not None and is_spark_rdd(v["data"]):
            rdd = _with_validation_blocks(rdd, v["data"], len(counts))
            persisted.append(rdd)
            rdd.count()  # builds the validation blocks, reading the training blocks from the cache
            persisted[0].unpersist()
        return _optimize(opt, log, rdd, counts)
    finally:
        for r in persisted:
            r.unpersist()


def _with_validation_blocks(train_blocks, val_rdd, ranks):
    """Each training block paired with a share of the validation set (as
    blocks, one per training partition), persisted: the training tasks score
    the model on their share at each validation, with no job of its own."""
    from pyspark import StorageLevel
    if val_rdd.getNumPartitions() != ranks:
        # A shuffle, not coalesce: a barrier stage refuses narrow ancestors
        # with another partition count.
        val_rdd = val_rdd.repartition(ranks)
    val_blocks = val_rdd.mapPartitionsWithIndex(_to_blocks("val_rdd"))
    return train_blocks.zip(val_blocks).persist(StorageLevel.MEMORY_AND_DISK)


def _optimize(opt, log, rdd, counts):
    sc = rdd.context
    ranks, total = len(counts), sum(counts)
    _, cpus = task_slots(sc, wait=0)
    per = str(counts[0]) if len(set(counts)) == 1 else "%d-%d" % (min(counts), max(counts))
    log.info("training on Spark: %d tasks (%s records per partition), %d core(s) each", ranks, per, cpus)
    model, method = opt.model, opt._method()
    v, ck = opt._validation, opt._checkpoint
    seed, _ = _native.call(0, "draw_seed")
    rng_state, _ = _native.call(0, "rng_state")  # where local training's Dropout masks would come from
    pos = _start_position(method, seed, rng_state, ranks, total, log)
    # What a retry with no checkpoint yet starts again from.
    origin = (model._call("get_flat_weights")[1][0], method._call("get_state"), copy.deepcopy(pos))
    stop = [t for t in (v["trigger"] if v else None, ck["trigger"] if ck else None) if t is not None]
    stop = None if not stop else stop[0] if len(stop) == 1 else {"class": "TriggerOr", "triggers": stop}
    ck_dir = _native.call(0, "checkpoint_dir", {"path": ck["path"]})[0] if ck else None
    max_retry, retries = retry_times(sc), 0
    bind, host = driver_addresses(sc)
    timeout, transport = sync_timeout(), sync_transport()
    run = {"opt": opt, "model": model, "method": method, "pos": pos, "total": total, "ck_dir": ck_dir,
           "segment": 0, "log": log}
    secret = os.urandom(32).hex()  # this run's: only its own tasks get in
    encrypt = wants_encryption(sc)
    channel = _channel.Driver(bind, host, secret, ranks, timeout, log, encrypt, mesh_ports("BIGDL_DRIVER_PORTS"))
    channel.before_peers = _test_before_peers
    run["summaries"] = _DriverSummaries(opt, channel)
    start = time.time()
    stage = 0
    bar = None
    try:
        first = pos["resume"][0] if pos["resume"] else {}
        bar = progress_bar(total, opt._batch_size, opt._end_trigger, log,
                           (pos["state"]["Epoch"], first.get("epoch_records") or 0))
        channel.on_progress = bar.update
        while not _native.call(0, "trigger_fires", {"trigger": opt._end_trigger, "state": run["pos"]["state"]})[0]:
            # One barrier stage trains every segment; a new one only after the driver started
            # again from a checkpoint.
            channel.start_stage(stage, run["segment"])
            clock = {"start": time.time()}
            mstate, bufs = method._call("get_state")
            flat = model._call("get_flat_weights")[1][0]
            pos = run["pos"]
            payload = sc.broadcast({
                "model": model_bytes(model), "num_params": int(flat.size),
                "criterion": opt.criterion._spec, "method": {"class": mstate_class(method), "args": method._config},
                "method_t": mstate["t"], "method_extra": mstate.get("extra"), "method_bufs": bufs,
                "batch_size": opt._batch_size,
                "end_trigger": opt._end_trigger, "clip": opt._clip, "stop": stop,
                "cores": cpus, "total": total, "seed": pos["seed"], "rng": pos["rng"], "resume": pos["resume"],
                "timeout": timeout, "transport": transport, "channel": channel.address, "secret": secret,
                "stage": stage, "segment": run["segment"], "ranks": ranks, "encrypt": encrypt,
                "val": {"batch_size": v["batch_size"], "methods": v["methods"]} if v else None,
                "summary_triggers": run["summaries"].triggers})
            clock["broadcast"] = time.time()
            job, failure = None, RuntimeError("the driver stopped")
            try:
                job = _Stage(sc, rdd, payload)
                failure = _train_segments(run, channel, job, clock)
            finally:
                if job is not None:
                    job.end(timeout, log, failure is None)
                payload.destroy()
            if failure is None:
                break
            # Spark's own retries of the stage are spent: as BigDL's driver does, start
            # again from the last checkpoint (or the start), bigdl.failure.retryTimes times.
            if ck is None:
                raise failure
            retries += 1
            if retries >= max_retry:
                log.error("training failed %d times (bigdl.failure.retryTimes is %d); giving up",
                          retries, max_retry)
                raise failure
            log.warning("a training stage failed: %s", _first_line(failure))
            log.info("Retrying %d times", retries)
            run["pos"] = _recover(opt, model, method, ck_dir, origin, ranks, total, log)
            run["segment"] += 1
            stage += 1
    finally:
        if bar is not None:
            bar.close()
        channel.close()
    pos = run["pos"]
    if pos["resume"] and pos["resume"][0]:
        method._call("set_run", {"position": _run_position(pos, total)})
    elapsed = pos["resume"][0].get("elapsed", 0.0) if pos["resume"] else 0.0
    log.info("training on Spark finished: %d iterations in %.1fs, %.3fs of them in the tasks' training loops",
             pos["state"]["Iteration"], time.time() - start, elapsed)
    return model


def _train_segments(run, channel, job, clock):
    """The driver's side of a stage: at each segment's end it takes the
    tasks' results, validates, records and checkpoints, then tells the tasks
    to go on or stop. Returns None when the run ended, or the exception the
    stage failed with (Spark's own retries spent)."""
    log, first = run["log"], True
    while True:
        try:
            results = [{"state": m["state"], "weights": _unb64(m["weights"]), "extra": _unb64(m["extra"]),
                        "mstate": m["mstate"], "bufs": [_unb64(b) for b in m["bufs"]], "scores": m["scores"]}
                       for m in channel.results(run["segment"], job.check)]
        except Exception as e:
            return e
        clock["results"] = time.time()
        if not run["segment"]:
            log.info("tasks exchanged parameters %s", {"shm": "through shared memory (one host)",
                     "tcp": "over TCP"}.get(results[0]["state"]["transport"], "not at all"))
        start = _end_segment(run, results, clock)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s", _segment_breakdown(run["segment"], clock, channel, first))
        first = False
        # Tasks that ended on the end trigger rather than at a validation or checkpoint are done.
        if not results[0]["state"]["stopped"] or _native.call(0, "trigger_fires", {
                "trigger": run["opt"]._end_trigger, "state": run["pos"]["state"]})[0]:
            channel.finish()
            return None
        run["segment"] += 1
        resume = run["pos"]["resume"]
        channel.proceed(run["segment"], lambda rank: {"resume": resume[rank]}, start)
        clock = {"start": time.time()}


def _end_segment(run, results, clock):
    """Takes a segment's results into the driver's model, optim method and
    position, validates, records and checkpoints; returns where a re-run of
    the stage starts the next segment (a function of the rank)."""
    opt, model, method, log = run["opt"], run["model"], run["method"], run["log"]
    v, ck, pos, total = opt._validation, opt._checkpoint, run["pos"], run["total"]
    weights = np.concatenate([r["weights"] for r in results])
    extra = np.concatenate([r["extra"] for r in results])
    model._call("set_flat_weights", tensors=[weights])
    model._call("set_flat_extra", tensors=[extra])
    mstate = {"t": results[0]["mstate"]["t"], "extra": results[0]["mstate"].get("extra")}
    bufs = [np.concatenate([r["bufs"][i] for r in results]) for i in range(len(results[0]["bufs"]))]
    method._call("set_state", mstate, bufs)
    resume = [r["state"]["resume"] for r in results]
    state = dict(resume[0]["state"])
    pos.update(resume=resume, state=state)
    run["summaries"].segment_ended(model, state["Iteration"])
    clock["update"] = time.time()
    stopped = results[0]["state"]["stopped"]
    if stopped and v is not None and _native.call(0, "trigger_fires", {"trigger": v["trigger"], "state": state})[0]:
        # The validation trigger ended the segment: the tasks scored their shares.
        epoch, done = state["Epoch"], resume[0]["epoch_records"]
        if state["EpochEnded"]:
            epoch, done = epoch - 1, total
        if any(r["scores"] is not None for r in results):
            scores = combine_scores([r["scores"] for r in results if r["scores"] is not None], v["methods"])
        else:
            scores = _validate(model, v)
        for i, r in enumerate(scores):
            log.info("[Epoch %d %d/%d][Iteration %d][Wall Clock %.3fs] %s is %s", epoch, done, total,
                     state["Iteration"], resume[0]["elapsed"], r["method"], r["text"])
            if i == 0:
                state["Score"], state["HasScore"] = r["result"], True
        run["summaries"].validated(scores, state["Iteration"])
        for r in resume:
            r["state"] = state
        clock["validation"] = time.time()
    if stopped and ck is not None and _native.call(0, "trigger_fires", {"trigger": ck["trigger"],
                                                                        "state": state})[0]:
        _write_checkpoint(opt, model, method, ck, run["ck_dir"], pos, total, log)
        clock["checkpoint"] = time.time()
    segment, ranks, n = run["segment"] + 1, len(results), weights.size
    whole = (mstate.get("extra") or {}).get("whole")

    def start(rank):
        lo, hi = _shard(rank, ranks, n)
        return {"segment": segment, "resume": resume[rank], "weights": _b64(weights), "extra": _b64(extra),
                "mstate": mstate, "bufs": [_b64(b if whole else b[lo:hi]) for b in bufs]}
    return start


def retry_times(sc):
    """BigDL's bigdl.failure.retryTimes, from the SparkConf (spark-submit passes only spark.*
    keys, so spark.bigdl.failure.retryTimes too) or BIGDL_FAILURE_RETRY_TIMES; default 5."""
    conf = sc.getConf()
    for where, value in (("SparkConf bigdl.failure.retryTimes", conf.get("bigdl.failure.retryTimes", None)),
                         ("SparkConf spark.bigdl.failure.retryTimes", conf.get("spark.bigdl.failure.retryTimes", None)),
                         ("BIGDL_FAILURE_RETRY_TIMES", os.environ.get("BIGDL_FAILURE_RETRY_TIMES"))):
        if value is not None:
            try:
                n = int(value)
            except ValueError:
                n = 0
            if n < 1:
                raise ValueError("%s must be a positive integer, got %r" % (where, value))
            return n
    return 5


def _first_line(e):
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _fresh_position(seed, rng_state, ranks):
    return {"seed": seed, "rng": rng_state, "resume": [{} for _ in range(ranks)],
            "state": {"Epoch": 1, "Iteration": 0, "Score": 0.0, "HasScore": False, "Loss": 0.0, "EpochEnded": False}}


def _start_position(method, seed, rng_state, ranks, total, log):
    """Where the run starts: afresh, or where the run a loaded optim method saved stood."""
    run, _ = method._call("run")
    if run is None:
        return _fresh_position(seed, rng_state, ranks)
    tasks = run.get("tasks")
    if tasks and not run.get("counters_only") and len(tasks["resume"]) == ranks and run["records"] == total:
        return {"seed": run["seed"], "rng": tasks.get("rng"), "resume": tasks["resume"], "state": run["state"]}
    # Saved locally, or with other partitions, or the method's last run (whose counters go on as
    # BigDL's DistriOptimizer keeps them in the method's state): the epoch starts afresh.
    state = dict(run["state"])
    if not run.get("counters_only"):
        log.info("continuing epoch %d, iteration %d of a run saved %s: this epoch starts again from its first "
                 "record", state["Epoch"], state["Iteration"],
                 "locally" if not tasks else "with %d partitions" % len(tasks["resume"]))
    pos = _fresh_position(seed, rng_state, ranks)
    pos["state"] = state
    pos["resume"] = [{"state": state, "elapsed": run.get("elapsed", 0.0)} for _ in range(ranks)]
    return pos


def _run_position(pos, total):
    """pos as an optim-method file keeps it (optim.Position with its Tasks)."""
    elapsed = pos["resume"][0].get("elapsed", 0.0) if pos["resume"] else 0.0
    return {"seed": pos["seed"], "records": total, "state": pos["state"], "elapsed": elapsed,
            "tasks": {"rng": pos["rng"], "resume": pos["resume"]}}


def _named_methods(opt, model, method):
    """The optim methods a checkpoint saves, by the name in their file names."""
    if isinstance(opt.optim_method, dict):
        return dict(opt.optim_method)
    return {model.name(): method}


def _write_checkpoint(opt, model, method, ck, ck_dir, pos, total, log):
    run = _run_position(pos, total)
    methods = {n: m.value for n, m in _named_methods(opt, model, method).items()}
    log.info("[Wall Clock %.3fs] Save model to %s", run["elapsed"], ck_dir)
    _native.call(0, "write_checkpoint", {"dir": ck_dir, "model": model.value, "methods": methods, "run": run,
                                         "overwrite": ck["overwrite"]})


def _recover(opt, model, method, ck_dir, origin, ranks, total, log):
    """Puts the model and the optim method(s) back to the newest checkpoint of this run (or to
    where the run started) and returns the position to go on from."""
    found, _ = _native.call(0, "latest_checkpoint", {"path": ck_dir})
    if found is None:
        log.info("Recover from origin model")
        weights, (mstate, bufs), pos = origin
        model._call("set_flat_weights", tensors=[weights])
        method._call("set_state", {"t": mstate["t"], "extra": mstate.get("extra")}, bufs)
        return copy.deepcopy(pos)
    log.info("Recover from last snapshot %s", found["model"])
    handle, _ = _native.call(0, "load", {"path": found["model"]})
    try:
        model._call("set_flat_weights", tensors=[_native.call(handle, "get_flat_weights")[1][0]])
    finally:
        _native.free(handle)
    from bigdl.optim.optimizer import OptimMethod
    run = None
    for name, target in _named_methods(opt, model, method).items():
        loaded = OptimMethod.load(found["methods"][name])
        mstate, bufs = loaded._call("get_state")
        target._call("set_state", {"t": mstate["t"], "extra": mstate.get("extra")}, bufs)
        run, _ = loaded._call("run")
    tasks = run["tasks"]
    return {"seed": run["seed"], "rng": tasks.get("rng"), "resume": tasks["resume"], "state": run["state"]}


class _DriverSummaries(object):
    """The driver's side of a run's summaries: it writes the scalars task 0
    records (sent on the channel), the weights it holds at each segment's
    end (when the TrainSummary records "Parameters"), and the validation
    scores it combines."""

    def __init__(self, opt, channel):
        self.train, self.val = opt._train_summary, opt._val_summary if opt._validation is not None else None
        self.triggers = self.train._call("triggers")[0] if self.train is not None else None
        self.channel = channel
        self.last = {}  # tag -> last step written: a re-run stage repeats its iterations
        if self.train is not None:
            channel.on_summary = self._write_scalars

    def _write_scalars(self, rows):
        rows = [r for r in rows if r[1] > self.last.get(r[0], 0)]
        for r in rows:
            self.last[r[0]] = r[1]
        if rows:
            self.train._call("add_scalars", {"rows": rows})

    def segment_ended(self, model, iteration):
        if self.channel.summary_error is not None:
            raise self.channel.summary_error
        if self.train is not None and "Parameters" in self.triggers:
            self.train._call("add_weights", {"model": model.value, "step": iteration})

    def validated(self, scores, iteration):
        if self.val is not None:
            wall = time.time()
            self.val._call("add_scalars", {"rows": [[r["method"], iteration, r["result"], wall] for r in scores]})


class _Stage(object):
    """A run's barrier stage, submitted without waiting for it.

    The partitionBy after the barrier stage makes it a shuffle-map stage,
    which Spark re-runs as a whole when a task fails (a failed barrier result
    stage is not retried). Only that stage runs (SparkContext.submitMapStage):
    the tasks send their results on the channel, so no second stage is
    needed to collect them."""

    def __init__(self, sc, rdd, payload):
        shuffled = rdd.barrier().mapPartitions(lambda it: _train_partition(payload, it)).map(
            lambda r: (0, r)).partitionBy(1)
        r = shuffled._jrdd.rdd()
        for _ in range(8):  # partitionBy's JVM side: a map over the ShuffledRDD
            dep = r.dependencies().head()
            if dep.getClass().getName() == "org.apache.spark.ShuffleDependency":
                break
            r = dep.rdd()
        else:
            raise RuntimeError("no shuffle dependency below partitionBy's RDD")
        self.future = sc._jsc.sc().submitMapStage(dep)

    def check(self):
        """Raises the stage's failure once it failed; an error if it ended
        while the driver still waits for results."""
        if self.future.isCompleted():
            self.future.get()
            raise RuntimeError("training on Spark: the training stage ended before its tasks sent their results")

    def end(self, timeout, log, finished):
        """When the run finished, waits (up to timeout) for the tasks told to
        stop to end the stage; else, or if they do not, cancels it, and waits
        (up to timeout) for Spark to free the task slots."""
        deadline = time.time() + timeout
        while finished and not self.future.isCompleted() and time.time() < deadline:
            time.sleep(0.02)
        if self.future.isCompleted():
            return
        if finished:
            log.warning("training on Spark: the training stage did not end within %gs of the driver's stop; "
                        "cancelling it", timeout)
        self.future.cancel()
        deadline = time.time() + timeout
        while not self.future.isCompleted() and time.time() < deadline:
            time.sleep(0.05)


def _segment_breakdown(segment, clock, channel, first):
    """One DEBUG line: where a segment's seconds went. A stage's first
    segment starts with the broadcast and the stage's start, split by the
    channel's clock (first and last registration); a later one with the
    driver's "continue". Then the tasks' own phases (the slowest task's),
    the round trip of the results, and the driver's work."""
    phases = _phases(clock)
    parts = ["segment %d: %.3fs:" % (segment, sum(phases.values()))]
    tasks = channel.timings.get(segment, {})
    inside = 0.0
    slowest = {}
    for t in tasks.values():
        for k, sec in t.items():
            slowest[k] = max(slowest.get(k, 0.0), sec)
    if first:
        parts.append("broadcast %.3f" % phases["broadcast"])
        first_reg, last = channel.first_registered.get(segment), channel.registered.get(segment)
        started = channel.started.get(segment)
        if started:  # the hosts' clocks: exact in local mode, roughly so on a cluster
            parts.append("stage start to first task start %.3f" % (started - clock["broadcast"]))
        if first_reg and last:
            parts.append("stage start to first registration %.3f, rendezvous %.3f"
                         % (first_reg - clock["broadcast"], last - first_reg))
            since = last
        else:
            since = clock["broadcast"]
        inside = sum(v for k, v in slowest.items() if k not in ("arrays", "peers"))
    else:
        since = clock["start"]
        inside = sum(slowest.values())
    if slowest:
        parts.append("in the tasks (slowest task): %s" % ", ".join("%s %.3f" % (k, v) for k, v in slowest.items()))
    parts.append("%s %.3f" % ("results back" if first else "continue and results back",
                              max(0.0, clock["results"] - since - inside)))
    parts.append("driver update %.3f" % phases["update"])
    for k in ("validation", "checkpoint"):
        if k in phases:
            parts.append("%s %.3f" % (k, phases[k]))
    return ", ".join(parts[:1]) + " " + ", ".join(parts[1:])


def _validate(model, v):
    """Scores on a validation set that is not an RDD (an RDD's are scored by
    the training tasks)."""
    if v["arrays"] is None:
        v["arrays"] = features_and_labels(v["data"], "val_rdd")
    return model._call("evaluate", {"batch_size": v["batch_size"], "methods": v["methods"]}, list(v["arrays"]))[0]


def mstate_class(method):
    return getattr(method, "_class_name", type(method).__name__)


# Validation and prediction ----------------------------------------------------------

def _num(v):
    """A float32 quantity in its shortest form, as the Go core prints it."""
    s = str(np.float32(v))
    return s


def _evaluate_partition(payload, iterator):
    records = list(iterator)
    if not records:
        return
    x, y = features_and_labels(records, "evaluation partition")
    p = payload.value
    model = _load_model(p["model"])
    try:
        results, _ = _native.call(model, "evaluate", {"batch_size": p["batch_size"], "methods": p["methods"]}, [x, y])
    finally:
        _native.free(model)
    yield results


def evaluate(model, rdd, batch_size, specs):
    """Scores model on an RDD of Sample on the executors; combines the
    partitions' scores exactly (each is a mean over records)."""
    sc = rdd.context
    payload = sc.broadcast({"model": model_bytes(model), "batch_size": int(batch_size), "methods": specs})
    try:
        parts = rdd.mapPartitions(lambda it: _evaluate_partition(payload, it)).collect()
    finally:
        payload.destroy()
    return combine_scores(parts, specs)


def combine_scores(parts, specs):
    """The scores of a whole set from its partitions' (each a mean over its
    records), combined exactly over records."""
    if not parts:
        raise ValueError("the evaluation set is empty: it needs at least one record")
    out = []
    for i, spec in enumerate(specs):
        count = sum(p[i]["total_num"] for p in parts)
        name = parts[0][i]["method"]
        if name in ("Top1Accuracy", "Top5Accuracy", "TreeNNAccuracy"):
            correct = sum(int(round(p[i]["result"] * p[i]["total_num"])) for p in parts)
            value = correct / count if count else 0.0
            text = "Accuracy(correct: %d, count: %d, accuracy: %s)" % (correct, count, _num(value))
        else:
            s = sum(p[i]["result"] * p[i]["total_num"] for p in parts)
            value = s / count if count else 0.0
            label = "Loss" if name in ("Loss", "MAE") else name
            text = "(%s: %s, count: %d, Average %s: %s)" % (label, _num(s), count, label, _num(value))
        out.append({"method": name, "result": value, "total_num": count, "text": text})
    return out


def _predict_partition(payload, iterator):
    records = list(iterator)
    if not records:
        return
    p = payload.value
    x, _ = features_and_labels(records, "predict partition", need_labels=False)
    model = _load_model(p["model"])
    try:
        out = _native.call(model, p["method"], {"batch_size": p["batch_size"]}, [x])[1][0]
    finally:
        _native.free(model)
    if p["method"] == "predict_class":
        for c in out:
            yield int(c)
    elif isinstance(out, list):  # a table of outputs: each record's is a list
        for i in range(len(records)):
            yield _record(out, i)
    else:
        for row in out:
            yield row


def _record(out, i):
    """Record i of a (nested) list of arrays."""
    if isinstance(out, list):
        return [_record(o, i) for o in out]
    return out[i]


def predict(model, rdd, batch_size=-1, classes=False):
    """An RDD of outputs (ndarrays) or of 1-based classes, computed on the
    executors with the model broadcast once."""
    payload = rdd.context.broadcast({"model": model_bytes(model), "batch_size": int(batch_size),
                                     "method": "predict_class" if classes else "predict"})
    return rdd.mapPartitions(lambda it: _predict_partition(payload, it))
