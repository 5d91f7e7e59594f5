"""LeNet-5 training throughput at batch 128 on MNIST-shaped data: bigdl-go (through BigDL's
API: build_model, Optimizer, SGD) against the same network in PyTorch on the CPU, at equal
threads. Rounds alternate ours and PyTorch, each in a fresh process, and the medians are
compared; the load average is printed beside them, since a shared machine skews any one run.
Then the split of one of our steps between convolutions, pooling and the rest (Go benchmark
BenchmarkLeNet5Split, one worker). Run: python bench/lenet_bench.py [rounds]"""
import os
import re
import subprocess
import sys

from _rounds import REPO, compare, ours_rate, run, torch_rate

RECORDS, EPOCHS, BATCH = 4096, 2, 128


def child(impl, threads):
    """One measurement in a fresh process: records/s (wall clock, CPU time) over EPOCHS epochs after
    a warm-up epoch."""
    import numpy as np
    rs = np.random.RandomState(0)
    X = rs.rand(RECORDS, 28, 28).astype(np.float32)
    y = rs.randint(0, 10, RECORDS)
    if impl == "torch":
        import torch
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        nn = torch.nn
        model = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 6, 5), nn.Tanh(), nn.MaxPool2d(2, 2),
                              nn.Conv2d(6, 12, 5), nn.Tanh(), nn.MaxPool2d(2, 2), nn.Flatten(),
                              nn.Linear(192, 100), nn.Tanh(), nn.Linear(100, 10), nn.LogSoftmax(1))
        return torch_rate(model, X.reshape(RECORDS, -1), y, BATCH, EPOCHS)
    from bigdl.models.lenet.lenet5 import build_model
    return ours_rate(build_model(10), X, y, BATCH, EPOCHS)


def main():
    compare(__file__, "LeNet-5 training, batch %d, MNIST-shaped records" % BATCH,
            int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    go = os.environ.get("GO", "go")
    env = dict(os.environ, GOMAXPROCS="1", GOEXPERIMENT="simd")
    p = subprocess.run([go, "test", "-run", "^$", "-bench", "LeNet5Split", "-benchtime", "40x", "./core/nn"],
                       capture_output=True, text=True, cwd=str(REPO), env=env)
    m = re.search(r"([\d.]+) conv_%\s+([\d.]+) pool_%\s+([\d.]+) rest_%\s+([\d.]+) step_ms", p.stdout)
    if m:
        print("\nOne worker's step at batch 128 (Go, one thread): %s ms; convolutions %s%%, pooling %s%%, "
              "the rest (Tanh, Linear, LogSoftMax, reshapes) %s%%." % (m.group(4), m.group(1), m.group(2), m.group(3)))
    else:
        print("\n(split not measured: %s)" % (p.stderr or p.stdout)[-500:])


if __name__ == "__main__":
    run(child, main)
