"""One training-throughput measurement, run in its own process so its peak
RSS can be read: python bench/train_one.py IMPL MODEL THREADS.

IMPL is ours (bigdl-go through the BigDL API), numpy (a plain numpy
implementation of the same training) or torch. Prints one JSON line.
"""
import json
import os
import sys
import time

import numpy as np

MODELS = {
    # name: (layer sizes, batch size, records, epochs)
    "lecture": ([5, 2], 16, 20000, 10),
    "feedforward": ([8, 10, 50, 100, 3], 16, 20000, 5),
    "mlp": ([784, 256, 256, 10], 128, 8192, 10),
}


def data(sizes, n):
    rs = np.random.RandomState(0)
    X = rs.randn(n, sizes[0]).astype(np.float32)
    y = rs.randint(0, sizes[-1], size=n)
    return X, y


def run_ours(sizes, batch, X, y, epochs):
    from bigdl.nn.criterion import ClassNLLCriterion
    from bigdl.nn.layer import Linear, LogSoftMax, ReLU, Sequential
    from bigdl.optim.optimizer import SGD, MaxEpoch, Optimizer
    import logging
    logging.getLogger("bigdl").setLevel(logging.WARNING)
    model = Sequential()
    for i in range(len(sizes) - 1):
        model.add(Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            model.add(ReLU())
    model.add(LogSoftMax())
    opt = Optimizer(model=model, training_rdd=(X, (y + 1).astype(np.float32)), criterion=ClassNLLCriterion(),
                    end_trigger=MaxEpoch(1), optim_method=SGD(learningrate=0.01), batch_size=batch)
    opt.optimize()  # warm-up: loads the library, converts the data
    opt.set_end_when(MaxEpoch(epochs))
    t, cpu = time.perf_counter(), time.process_time()
    opt.optimize()
    return time.perf_counter() - t, time.process_time() - cpu


def run_numpy(sizes, batch, X, y, epochs):
    rs = np.random.RandomState(1)
    Ws = [rs.uniform(-1, 1, (sizes[i + 1], sizes[i])).astype(np.float32) / np.sqrt(sizes[i]) for i in range(len(sizes) - 1)]
    bs = [np.zeros(s, np.float32) for s in sizes[1:]]
    lr = np.float32(0.01)
    t, cpu = time.perf_counter(), time.process_time()
    n = len(X)
    for _ in range(epochs):
        order = rs.permutation(n)
        for lo in range(0, n, batch):
            idx = order[lo:lo + batch]
            acts = [X[idx]]
            for i, (W, b) in enumerate(zip(Ws, bs)):
                z = acts[-1] @ W.T + b
                acts.append(np.maximum(z, 0) if i < len(Ws) - 1 else z)
            z = acts[-1]
            z = z - z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            g = p
            g[np.arange(len(idx)), y[idx]] -= 1
            g /= len(idx)
            for i in range(len(Ws) - 1, -1, -1):
                gW = g.T @ acts[i]
                gb = g.sum(axis=0)
                if i > 0:
                    g = (g @ Ws[i]) * (acts[i] > 0)
                Ws[i] -= lr * gW
                bs[i] -= lr * gb
    return time.perf_counter() - t, time.process_time() - cpu


def run_torch(sizes, batch, X, y, epochs):
    import torch
    torch.manual_seed(0)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    layers.append(torch.nn.LogSoftmax(dim=1))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.NLLLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    n = len(X)
    t, cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        order = torch.randperm(n)
        for lo in range(0, n, batch):
            idx = order[lo:lo + batch]
            opt.zero_grad()
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    return time.perf_counter() - t, time.process_time() - cpu


def main():
    impl, model, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sizes, batch, n, epochs = MODELS[model]
    X, y = data(sizes, n)
    if impl == "torch":
        import torch
        torch.set_num_threads(threads)
    runner = {"ours": run_ours, "numpy": run_numpy, "torch": run_torch}[impl]
    secs, cpu_secs = runner(sizes, batch, X, y, epochs)
    # records_per_cpu_s counts the CPU time of all the process's threads over
    # the timed run: with one thread, the rate the run had per second on a
    # CPU, which a machine shared with other work disturbs least.
    print(json.dumps({"impl": impl, "model": model, "threads": threads, "records_per_s": n * epochs / secs,
                      "records_per_cpu_s": n * epochs / cpu_secs, "seconds": secs, "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb():
    """This process's peak resident set (VmHWM): unlike getrusage's maxrss, it
    does not count the parent's memory inherited across fork and exec."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


if __name__ == "__main__":
    main()
