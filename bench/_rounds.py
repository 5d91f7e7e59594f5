"""What the model benchmarks share: each measurement in a fresh process, ours and PyTorch's
alternating, medians compared at equal threads, with the load average beside them."""
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def measure(script, impl, threads):
    """records/s of one `script --child impl threads` run: by the wall clock, and per CPU-second of the
    process (all its threads counted), which a machine shared with other jobs skews far less."""
    env = dict(os.environ, BIGDL_CORE_NUMBER=str(threads), OMP_NUM_THREADS=str(threads),
               PYTHONPATH=str(REPO / "python"))
    p = subprocess.run([sys.executable, str(script), "--child", impl, str(threads)], capture_output=True, text=True,
                       env=env, timeout=900)
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (impl, p.stderr[-2000:]))
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return r["records_per_s"], r["records_per_cpu_s"]


def load():
    return open("/proc/loadavg").read().split()[0]


def info():
    code = "import json, bigdl._native as n; print(json.dumps(n.call(0, 'info')[0]))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(REPO / "python")))
    return json.loads(p.stdout.strip().splitlines()[-1])


def compare(script, title, rounds):
    """Prints the table of medians of ours against PyTorch on 1 and 2 threads."""
    i = info()
    print("## %s (records/s, medians of %d alternating rounds)\n" % (title, rounds))
    print("CPU: %s (%d CPUs), kernels: %s; Python %s\n" % (i.get("cpu"), os.cpu_count(), i.get("kernels"),
                                                          platform.python_version()))
    print("| threads | measure | bigdl-go | PyTorch | bigdl-go / PyTorch | load average during the rounds |")
    print("|---|---|---|---|---|---|")
    for threads in (1, 2):
        ours, torch, loads = [], [], []
        for _ in range(rounds):
            loads.append(load())
            ours.append(measure(script, "ours", threads))
            torch.append(measure(script, "torch", threads))
        for i, what in enumerate(("records/s (wall clock)", "records per CPU-second")):
            mo, mt = statistics.median(r[i] for r in ours), statistics.median(r[i] for r in torch)
            print("| %d | %s | %.0f | %.0f | %.2f | %s |" % (threads, what, mo, mt, mo / mt, " ".join(loads)))
        sys.stdout.flush()


def run(child, main):
    """The script's entry: a child measurement (printed as JSON) or the whole comparison."""
    if sys.argv[1:2] == ["--child"]:
        wall, cpu = child(sys.argv[2], int(sys.argv[3]))
        print(json.dumps({"records_per_s": wall, "records_per_cpu_s": cpu}))
    else:
        main()


def timed(f, records):
    """records/s of f() by the wall clock and per CPU-second of the process."""
    import time
    t, c = time.perf_counter(), time.process_time()
    f()
    return records / (time.perf_counter() - t), records / (time.process_time() - c)


def torch_rate(model, X, y, batch, epochs):
    """records/s of PyTorch SGD (lr 0.01, NLLLoss) on model over epochs after a warm-up epoch, by the wall
    clock and per CPU-second."""
    import numpy as np
    import torch
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.NLLLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    n = len(X)

    def epoch():
        order = torch.randperm(n)
        for lo in range(0, n, batch):
            idx = order[lo:lo + batch]
            opt.zero_grad()
            loss_fn(model(Xt[idx]), yt[idx]).backward()
            opt.step()
    epoch()
    return timed(lambda: [epoch() for _ in range(epochs)], n * epochs)


def ours_rate(model, X, y, batch, epochs):
    """records/s of our Optimizer (SGD lr 0.01, ClassNLLCriterion) on model over epochs after a
    warm-up epoch (which loads the library and hands over the data), by the wall clock and per
    CPU-second."""
    import logging

    import numpy as np
    from bigdl.nn.criterion import ClassNLLCriterion
    from bigdl.optim.optimizer import SGD, MaxEpoch, Optimizer
    logging.getLogger("bigdl").setLevel(logging.WARNING)

    def optimizer(epochs):
        return Optimizer(model=model, training_rdd=(X, (y + 1).astype(np.float32)), criterion=ClassNLLCriterion(),
                         end_trigger=MaxEpoch(epochs), optim_method=SGD(learningrate=0.01), batch_size=batch)
    optimizer(1).optimize()
    # The timed run is a new Optimizer with a new method, so it counts from epoch 1 and trains
    # exactly `epochs` epochs (a method's counters go on from its last run, as in BigDL).
    return timed(optimizer(epochs).optimize, len(X) * epochs)
