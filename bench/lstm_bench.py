"""LSTM training throughput: LSTM(28 -> 128) over the 28 rows of MNIST-shaped images, the
last step into Linear(128, 10) and LogSoftMax, batch 64, SGD: bigdl-go (through BigDL's API:
Recurrent, LSTM, Select, Optimizer) against the same model in PyTorch on the CPU (nn.LSTM),
at equal threads. Rounds alternate ours and PyTorch, each in a fresh process, and the
medians are compared. Run: python bench/lstm_bench.py [rounds]"""
import sys
import time

from _rounds import compare, run

RECORDS, EPOCHS, BATCH, STEPS, HIDDEN = 4096, 2, 64, 28, 128


def child(impl, threads):
    """One measurement in a fresh process: records/s over EPOCHS epochs after a warm-up epoch."""
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
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        loss_fn = nn.NLLLoss()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))

        def epoch():
            order = torch.randperm(RECORDS)
            for lo in range(0, RECORDS, BATCH):
                idx = order[lo:lo + BATCH]
                opt.zero_grad()
                loss_fn(model(Xt[idx]), yt[idx]).backward()
                opt.step()
        epoch()
        t = time.perf_counter()
        for _ in range(EPOCHS):
            epoch()
        return RECORDS * EPOCHS / (time.perf_counter() - t)
    import logging
    from bigdl.nn.criterion import ClassNLLCriterion
    from bigdl.nn.layer import LSTM, Linear, LogSoftMax, Recurrent, Select, Sequential
    from bigdl.optim.optimizer import SGD, MaxEpoch, Optimizer
    logging.getLogger("bigdl").setLevel(logging.WARNING)
    model = Sequential().add(Recurrent().add(LSTM(28, HIDDEN))).add(Select(2, -1)).add(Linear(HIDDEN, 10)) \
        .add(LogSoftMax())
    opt = Optimizer(model=model, training_rdd=(X, (y + 1).astype(np.float32)), criterion=ClassNLLCriterion(),
                    end_trigger=MaxEpoch(1), optim_method=SGD(learningrate=0.01), batch_size=BATCH)
    opt.optimize()  # warm-up: loads the library, hands over the data
    opt.set_end_when(MaxEpoch(1 + EPOCHS))
    t = time.perf_counter()
    opt.optimize()
    return RECORDS * EPOCHS / (time.perf_counter() - t)


def main():
    compare(__file__, "LSTM(28 -> 128) over 28 steps, Linear(128, 10), LogSoftMax, batch %d, SGD" % BATCH,
            int(sys.argv[1]) if len(sys.argv) > 1 else 5)


if __name__ == "__main__":
    run(child, main)
