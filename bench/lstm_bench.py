"""LSTM training throughput: LSTM(28 -> 128) over the 28 rows of MNIST-shaped images, the
last step into Linear(128, 10) and LogSoftMax, batch 64, SGD: bigdl-go (through BigDL's API:
Recurrent, LSTM, Select, Optimizer) against the same model in PyTorch on the CPU (nn.LSTM),
at equal threads. Rounds alternate ours and PyTorch, each in a fresh process, and the
medians are compared. Run: python bench/lstm_bench.py [rounds]"""
import sys

from _rounds import compare, ours_rate, run, torch_rate

RECORDS, EPOCHS, BATCH, STEPS, HIDDEN = 4096, 2, 64, 28, 128


def child(impl, threads):
    """One measurement in a fresh process: records/s (wall clock, CPU time) over EPOCHS epochs after
    a warm-up epoch."""
    import numpy as np
    rs = np.random.RandomState(0)
    X = rs.rand(RECORDS, STEPS, 28).astype(np.float32)
    y = rs.randint(0, 10, RECORDS)
    if impl == "torch":
        import torch
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        nn = torch.nn

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm, self.fc = nn.LSTM(28, HIDDEN, batch_first=True), nn.Linear(HIDDEN, 10)

            def forward(self, x):
                return torch.log_softmax(self.fc(self.lstm(x)[0][:, -1]), 1)
        model = Model()
        return torch_rate(model, X, y, BATCH, EPOCHS)
    from bigdl.nn.layer import LSTM, Linear, LogSoftMax, Recurrent, Select, Sequential
    model = Sequential().add(Recurrent().add(LSTM(28, HIDDEN))).add(Select(2, -1)).add(Linear(HIDDEN, 10)) \
        .add(LogSoftMax())
    return ours_rate(model, X, y, BATCH, EPOCHS)


def main():
    compare(__file__, "LSTM(28 -> 128) over 28 steps, Linear(128, 10), LogSoftMax, batch %d, SGD" % BATCH,
            int(sys.argv[1]) if len(sys.argv) > 1 else 5)


if __name__ == "__main__":
    run(child, main)
