"""Distributed-training benchmark: bigdl-go on a list, bigdl-go on a
2-partition RDD in Spark local[2], and PySpark's TorchDistributor (DDP over
gloo), for the MLP 784-256-256-10, plus the per-iteration sync cost.

python bench/spark_bench.py  (prints one markdown section)

python bench/spark_bench.py --compare OLD/python [--rounds N]: Spark's overhead
around the training loops, this checkout against another (OLD/python holds its
bigdl package with its built library, e.g. from `git worktree add`), run in
alternation so both see the same machine: the logistic lecture's optimize()
with LECTURE_SPARK=1 on local[2] (20 segments, one per epoch), the cost of a
segment outside the loops (the lecture's, and what each one-iteration segment
adds to a run), and the MLP's in-loop rates over shm and TCP.
"""
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIZES = [784, 256, 256, 10]
BATCH = 128
N = 8192
EPOCHS = 10
PARAMS = sum(SIZES[i] * SIZES[i + 1] + SIZES[i + 1] for i in range(len(SIZES) - 1))  # 269,322


def data(n=N, seed=0):
    rs = np.random.RandomState(seed)
    X = rs.randn(n, SIZES[0]).astype(np.float32)
    y = rs.randint(0, SIZES[-1], size=n)  # 0-based; BigDL gets y + 1
    return X, y


def bigdl_model():
    from bigdl.nn.layer import Linear, LogSoftMax, ReLU, Sequential
    model = Sequential()
    for i in range(len(SIZES) - 1):
        model.add(Linear(SIZES[i], SIZES[i + 1]))
        if i < len(SIZES) - 2:
            model.add(ReLU())
    model.add(LogSoftMax())
    return model


def bigdl_optimizer(train):
    from bigdl.nn.criterion import ClassNLLCriterion
    from bigdl.optim.optimizer import SGD, MaxEpoch, Optimizer
    return Optimizer(model=bigdl_model(), training_rdd=train, criterion=ClassNLLCriterion(),
                     end_trigger=MaxEpoch(1), optim_method=SGD(learningrate=0.01), batch_size=BATCH)


# 1. ours on a list (run in a child process, with BIGDL_CORE_NUMBER=2) -------------

def run_local():
    from bigdl.optim.optimizer import MaxEpoch
    logging.getLogger("bigdl").setLevel(logging.WARNING)
    X, y = data()
    opt = bigdl_optimizer((X, (y + 1).astype(np.float32)))
    opt.optimize()  # warm-up: loads the library, converts the data
    opt.set_end_when(MaxEpoch(EPOCHS))
    t = time.perf_counter()
    opt.optimize()
    return time.perf_counter() - t


# 2. ours on a 2-partition RDD in local[2] -----------------------------------------

class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


_FINISHED = re.compile(r"training on Spark finished: (\d+) iterations .* ([0-9.]+)s of them in the tasks' training loops")


def in_loop(lines, records):
    """Records/s inside the tasks' training loops: the records trained over the
    seconds task 0 spent in its loop (from the driver's last log line; Spark's
    stage start-up and the result collection are outside it)."""
    for line in lines:
        m = _FINISHED.search(line)
        if m and float(m.group(2)) > 0:
            return records / float(m.group(2))
    return None


def run_rdd(sc, transport):
    from bigdl.optim.optimizer import MaxEpoch
    os.environ["BIGDL_SYNC_TRANSPORT"] = transport
    from bigdl.util.common import Sample
    X, y = data()
    rdd = sc.parallelize([Sample.from_ndarray(x, float(l + 1)) for x, l in zip(X, y)], 2)
    log = logging.getLogger("bigdl")
    log.setLevel(logging.INFO)
    cap = _Capture()
    log.addHandler(cap)
    opt = bigdl_optimizer(rdd)
    t = time.perf_counter()
    opt.optimize()  # warm-up: caches the RDD, starts the Python workers
    cold = time.perf_counter() - t
    cap.lines.clear()
    opt.set_end_when(MaxEpoch(EPOCHS))
    t = time.perf_counter()
    opt.optimize()
    wall = time.perf_counter() - t
    log.removeHandler(cap)
    for line in cap.lines:
        print("progress: " + line, file=sys.stderr)
    used = [l for l in cap.lines if "exchanged parameters" in l]
    return cold, wall, in_loop(cap.lines, N * EPOCHS), used[0] if used else "?"


# 4. PySpark's TorchDistributor --------------------------------------------------------

def torch_train_fn(sizes, batch_per_proc, n, epochs):
    import time
    import numpy as np
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    from torch.nn.parallel import DistributedDataParallel as DDP
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    rs = np.random.RandomState(0)
    X = torch.from_numpy(rs.randn(n, sizes[0]).astype(np.float32))
    y = torch.from_numpy(rs.randint(0, sizes[-1], size=n).astype(np.int64))
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    layers.append(nn.LogSoftmax(dim=1))
    torch.manual_seed(0)
    model = DDP(nn.Sequential(*layers))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.NLLLoss()
    gbatch = batch_per_proc * world
    g = torch.Generator().manual_seed(1)

    def epoch():
        order = torch.randperm(n, generator=g)
        for lo in range(0, n, gbatch):
            idx = order[lo:lo + gbatch][rank::world]  # this process's share of the global batch
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            opt.step()

    epoch()  # warm-up, like ours
    dist.barrier()
    t = time.perf_counter()
    for _ in range(epochs):
        epoch()
    dist.barrier()
    secs = time.perf_counter() - t
    dist.destroy_process_group()
    return {"rank": rank, "seconds": secs, "records_per_s": n * epochs / secs}


def run_torch():
    from pyspark.ml.torch.distributor import TorchDistributor
    from pyspark.sql import SparkSession
    SparkSession.builder.getOrCreate()  # TorchDistributor needs an active session (on our context)
    # torchrun's banner and the training processes' output go to stdout:
    # send them to stderr so stdout stays the markdown section.
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        t = time.perf_counter()
        out = TorchDistributor(num_processes=2, local_mode=True, use_gpu=False).run(
            torch_train_fn, SIZES, BATCH // 2, N, EPOCHS)
        return out, time.perf_counter() - t
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# 3. the sync step ------------------------------------------------------------------------

def go_sync_bench():
    """ms per ReduceScatter + AllGather, by transport (BenchmarkSync270k)."""
    env = dict(os.environ, GOEXPERIMENT="simd")
    go = os.environ.get("GO") or shutil.which("go") or "/usr/local/go/bin/go"
    p = subprocess.run([go, "test", "-run", "^$", "-bench", "Sync270k", "-benchtime", "1s", "./core/dist"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    found = {m.group(1): float(m.group(2)) / 1e6
             for m in re.finditer(r"BenchmarkSync270k/([\w+]+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op", p.stdout)}
    if not found:
        raise RuntimeError((p.stdout + p.stderr)[-500:])
    return found


def sync_bytes(ranks=2, n=PARAMS):
    """What core/dist sends per task per iteration (Trainer.syncStep): raw
    float32 bytes, no headers or framing. ReduceScatter sends each peer that
    peer's shard followed by 2 float64 (this task's loss and normaliser,
    which ride on the reduce-scatter); AllGather sends this rank's shard to
    each peer."""
    shards = [(r + 1) * n // ranks - r * n // ranks for r in range(ranks)]
    rank = 0
    rs = sum(4 * shards[r] for r in range(ranks) if r != rank)
    ag = 4 * shards[rank] * (ranks - 1)
    small = 2 * 8 * (ranks - 1)
    return rs, ag, small


# --------------------------------------------------------------------------------------------

def fmt(v, spec="%.0f"):
    return spec % v if isinstance(v, (int, float)) else str(v)


def main():
    rows = []  # (configuration, records/s, wall time s, note)
    records = N * EPOCHS

    # 1. local list, in a child with BIGDL_CORE_NUMBER=2 (Spark tasks must not inherit it).
    env = dict(os.environ, BIGDL_CORE_NUMBER="2")
    p = subprocess.run([sys.executable, os.path.abspath(__file__), "--local"], env=env,
                       capture_output=True, text=True, timeout=180)
    try:
        secs = json.loads(p.stdout.strip().splitlines()[-1])["seconds"]
        rows.append(("bigdl-go, list, local (BIGDL_CORE_NUMBER=2)", records / secs, secs, "optimize() after a 1-epoch warm-up"))
    except Exception:
        rows.append(("bigdl-go, list, local (BIGDL_CORE_NUMBER=2)", "failed", "-", (p.stderr or p.stdout)[-300:].replace("\n", " ")))

    from pyspark import SparkContext
    from bigdl.util.common import create_spark_conf
    sc = SparkContext.getOrCreate(create_spark_conf().setMaster("local[2]").setAppName("bigdl-spark-bench")
                                  .set("spark.ui.enabled", "false"))
    sc.setLogLevel("ERROR")
    ours = {}  # transport -> (whole optimize() records/s, in-loop records/s)
    try:
        for transport in ("auto", "tcp"):
            cold, wall, loop, used = run_rdd(sc, transport)
            ours[transport] = (records / wall, loop)
            name = "bigdl-go, RDD 2 partitions, BIGDL_SYNC_TRANSPORT=%s" % transport
            rows.append((name + ": whole optimize()", records / wall, wall,
                         "after a 1-epoch warm-up optimize() (that one took %.2f s); the driver logged: %s" % (cold, used)))
            rows.append((name + ": in the tasks' training loops", loop if loop else "n/a", "-",
                         "records / task 0's seconds in its training loop (driver log)"))
    except Exception as e:
        rows.append(("bigdl-go, RDD 2 partitions, local[2]", "failed", "-", repr(e)[:300]))
    finally:
        os.environ.pop("BIGDL_SYNC_TRANSPORT", None)
    torch_run = None

    torch_rps = None
    try:
        import torch  # noqa: F401
        try:
            out, run_wall = run_torch()
            torch_rps = out["records_per_s"]
            torch_run = records / run_wall
            rows.append(("TorchDistributor (2 procs, DDP gloo, 1 thread each): rank-0 loop", torch_rps, out["seconds"],
                         "%d epochs after a 1-epoch warm-up, timed inside train_fn" % EPOCHS))
            rows.append(("TorchDistributor: whole .run()", records / run_wall, run_wall,
                         "includes process start, init_process_group, data, warm-up epoch (%d records / wall)" % records))
        except Exception as e:
            rows.append(("TorchDistributor", "failed", "-", ("%s: %s" % (type(e).__name__, e))[:300].replace("\n", " ").replace("|", "/")))
    except ImportError:
        rows.append(("TorchDistributor", "skipped", "-", "torch is not importable"))
    sc.stop()

    try:
        sync_ms = go_sync_bench()
    except Exception as e:
        sync_ms = "failed: %s" % repr(e)[:200].replace("\n", " ")
    rs, ag, small = sync_bytes()

    print("## Distributed training (Spark local[2])")
    print()
    print("MLP %s (ReLU, LogSoftMax, ClassNLLCriterion), SGD lr 0.01, global batch %d, %d synthetic records, "
          "%d epochs timed, no validation; %d CPUs." % ("-".join(map(str, SIZES)), BATCH, N, EPOCHS, os.cpu_count()))
    print()
    print("| configuration | records/s | wall time (s) | note |")
    print("|---|---:|---:|---|")
    for name, rps, wall, note in rows:
        print("| %s | %s | %s | %s |" % (name, fmt(rps), fmt(wall, "%.2f"), note))
    print()
    if ours and torch_rps:
        print("Ratios bigdl-go RDD / TorchDistributor (rank 0's training loop):")
        print()
        for transport, (whole, loop) in ours.items():
            line = "- BIGDL_SYNC_TRANSPORT=%s: in the training loops **%.2fx**" % (transport, loop / torch_rps) if loop else \
                "- BIGDL_SYNC_TRANSPORT=%s: in the training loops n/a" % transport
            line += "; whole optimize() (with Spark's stage start-up) %.2fx" % (whole / torch_rps)
            if torch_run:
                line += "; whole optimize() / whole .run() (both with start-up) %.2fx" % (whole / torch_run)
            print(line)
    else:
        print("Ratio bigdl-go RDD / TorchDistributor: n/a")
    print()
    print("Sync per iteration, %d parameters, 2 ranks:" % PARAMS)
    print()
    print("| measure | value |")
    print("|---|---:|")
    if isinstance(sync_ms, dict):
        for transport, ms in sync_ms.items():
            print("| ReduceScatter + AllGather time (Go BenchmarkSync270k/%s, 2 ranks in one process) | %.3f ms |" % (transport, ms))
    else:
        print("| ReduceScatter + AllGather time (Go BenchmarkSync270k) | %s |" % sync_ms)
    print("| bytes sent per task per iteration: ReduceScatter (peer's shard, float32) | %d |" % rs)
    print("| bytes sent per task per iteration: AllGather (own shard, float32) | %d |" % ag)
    print("| bytes sent per task per iteration: loss and normaliser (float64, with the ReduceScatter) | %d |" % small)
    print("| total bytes sent per task per iteration | %d (%.2f MB) |" % (rs + ag + small, (rs + ag + small) / 1e6))
    print()
    print("Formula: each collective sends (ranks-1)/ranks x params x 4 bytes per task = 1/2 x %d x 4 = %d; "
          "core/dist writes raw float32 slices with no headers or framing, so the total is 2 x that plus "
          "16 bytes for the scalars. Through shared memory the same bytes are written once into the "
          "region and read once by the peer; over TCP they are also copied through the kernel." % (PARAMS, PARAMS * 4 // 2))


_LECTURE = re.compile(r"training on Spark finished: (\d+) iterations in ([0-9.]+)s, ([0-9.]+)s of them")


def lecture_run(python_dir):
    """(optimize() seconds, seconds in the tasks' loops) of one lecture run on local[2]."""
    env = dict(os.environ, LECTURE_SPARK="1", PYTHONPATH=python_dir, PYTHONDONTWRITEBYTECODE="1")
    p = subprocess.run([sys.executable, "lecture_logistic.py"], cwd=os.path.join(ROOT, "examples"), env=env,
                       capture_output=True, text=True, timeout=900)
    m = _LECTURE.search(p.stderr)
    if p.returncode or not m:
        raise RuntimeError("the lecture failed under %s: %s" % (python_dir, p.stderr[-1000:]))
    return float(m.group(2)), float(m.group(3))


def child_run(python_dir, flag, what):
    """The JSON a child of this script run with flag prints last, with bigdl from python_dir."""
    env = dict(os.environ, PYTHONPATH=python_dir, PYTHONDONTWRITEBYTECODE="1")
    p = subprocess.run([sys.executable, os.path.abspath(__file__), flag], env=env,
                       capture_output=True, text=True, timeout=900)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError("the %s run failed under %s: %s" % (what, python_dir, p.stderr[-1000:]))


def in_loop_run(python_dir):
    """{transport: records/s in the tasks' loops} of the MLP on a 2-partition RDD."""
    return child_run(python_dir, "--rdd-child", "in-loop")


def rdd_child():
    from pyspark import SparkContext
    from bigdl.util.common import create_spark_conf
    sc = SparkContext.getOrCreate(create_spark_conf().setMaster("local[2]").setAppName("bigdl-spark-bench")
                                  .set("spark.ui.enabled", "false"))
    sc.setLogLevel("ERROR")
    out = {}
    for transport in ("auto", "tcp"):
        out[transport] = run_rdd(sc, transport)[2]
    sc.stop()
    print(json.dumps(out))


SEGMENTS = 40


def segment_child():
    """A run of one-iteration segments against a one-segment run, each after a
    warm-up: the logistic lecture's model on 64 records in 2 partitions, one
    global batch of 64 per epoch, validated every epoch on 32 records. Prints
    {"run": seconds of a one-segment optimize() outside its one iteration (the
    whole call: the array blocks' job too), "segment": seconds each further
    segment adds outside its iteration, "average": a segment's share of a run
    of SEGMENTS + 1 outside the loops}; medians of three runs each."""
    from pyspark import SparkContext
    from bigdl.nn.criterion import ClassNLLCriterion
    from bigdl.nn.layer import Linear, LogSoftMax, Sequential
    from bigdl.optim.optimizer import SGD, EveryEpoch, Loss, MaxEpoch, Optimizer
    from bigdl.util.common import Sample, create_spark_conf
    sc = SparkContext.getOrCreate(create_spark_conf().setMaster("local[2]").setAppName("bigdl-segment-bench")
                                  .set("spark.ui.enabled", "false"))
    sc.setLogLevel("ERROR")
    rs = np.random.RandomState(0)
    rows = [Sample.from_ndarray(rs.randn(5).astype(np.float32), float(rs.randint(1, 3))) for _ in range(96)]
    train, val = sc.parallelize(rows[:64], 2), sc.parallelize(rows[64:], 2)
    log = logging.getLogger("bigdl")
    log.setLevel(logging.INFO)
    cap = _Capture()
    log.addHandler(cap)

    def outside(epochs):
        """optimize()'s seconds outside the tasks' training loops."""
        cap.lines.clear()
        opt = Optimizer(model=Sequential().add(Linear(5, 2)).add(LogSoftMax()), training_rdd=train,
                        criterion=ClassNLLCriterion(), end_trigger=MaxEpoch(epochs),
                        optim_method=SGD(learningrate=0.05), batch_size=64)
        opt.set_validation(batch_size=16, val_rdd=val, trigger=EveryEpoch(), val_method=[Loss()])
        t = time.perf_counter()
        opt.optimize()
        wall = time.perf_counter() - t
        m = [x for x in (_LECTURE.search(line) for line in cap.lines) if x][-1]
        return wall - float(m.group(3))

    outside(2)  # warm-up: starts the Python workers
    one, many = [], []
    for _ in range(3):  # alternating, so both see the same load
        one.append(outside(1))
        many.append(outside(1 + SEGMENTS))
    one, many = sorted(one)[1], sorted(many)[1]
    sc.stop()
    print(json.dumps({"run": one, "segment": (many - one) / SEGMENTS, "average": many / (1 + SEGMENTS)}))


def segment_run(python_dir):
    return child_run(python_dir, "--segment-child", "segment")


def spread(values, spec="%.2f"):
    values = sorted(values)
    return (spec + " (%s–%s)") % (values[len(values) // 2], spec % values[0], spec % values[-1])


def compare(old, rounds):
    new = os.path.join(ROOT, "python")
    lect = {"old": [], "new": []}
    loops = {"old": [], "new": []}
    segs = {"old": [], "new": []}
    for _ in range(rounds):
        for name, d in (("old", old), ("new", new)):  # alternating: both see the same load
            lect[name].append(lecture_run(d))
            segs[name].append(segment_run(d))
            loops[name].append(in_loop_run(d))
    print("## Spark overhead, this checkout (new) against %s (old)" % old)
    print()
    print("Logistic lecture with LECTURE_SPARK=1 on local[2] (20 epochs, validation every epoch: 20 segments), "
          "and the 784-256-256-10 MLP on a 2-partition RDD (in-loop rates, as in the main table); "
          "%d rounds, old and new alternating; median (min–max); %d CPUs." % (rounds, os.cpu_count()))
    print()
    print("| measure | old | new |")
    print("|---|---:|---:|")
    row = lambda name, f, spec="%.2f": print("| %s | %s | %s |" % (name, spread([f(x) for x in lect["old"]], spec),
                                                                  spread([f(x) for x in lect["new"]], spec)))
    row("lecture optimize() (s)", lambda r: r[0])
    row("lecture: per segment outside the tasks' loops (s)", lambda r: (r[0] - r[1]) / 20, "%.3f")
    for key, name in (("segment", "one-iteration segments: each of %d more adds (s)" % SEGMENTS),
                      ("average", "one-iteration segments: %d in one optimize(), each (s)" % (SEGMENTS + 1)),
                      ("run", "a one-segment optimize() outside its one iteration (s)")):
        print("| %s | %s | %s |" % (name, spread([x[key] for x in segs["old"]], "%.3f"),
                                    spread([x[key] for x in segs["new"]], "%.3f")))
    for t in ("auto", "tcp"):
        print("| MLP in-loop records/s, BIGDL_SYNC_TRANSPORT=%s | %s | %s |" % (
            t, spread([x[t] for x in loops["old"]], "%.0f"), spread([x[t] for x in loops["new"]], "%.0f")))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--rdd-child"]:  # bigdl comes from PYTHONPATH: this checkout's or the old one
        rdd_child()
        sys.exit(0)
    if sys.argv[1:2] == ["--segment-child"]:
        segment_child()
        sys.exit(0)
    if sys.argv[1:2] == ["--compare"]:
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
        compare(os.path.abspath(sys.argv[2]), rounds)
        sys.exit(0)
    sys.path.insert(0, os.path.join(ROOT, "python"))
    # Spark's Python workers and the --local child import bigdl from here too.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(ROOT, "python")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    if sys.argv[1:] == ["--local"]:
        print(json.dumps({"seconds": run_local()}))
    else:
        main()
