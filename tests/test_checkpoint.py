"""set_checkpoint: BigDL's layout, crash safety (a training process SIGKILLed again and again,
often in the middle of writing a checkpoint) and exact resumption from the newest checkpoint."""
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from bigdl.nn.criterion import ClassNLLCriterion
from bigdl.nn.layer import Linear, LogSoftMax, Model, Sequential
from bigdl.optim.optimizer import SGD, MaxIteration, OptimMethod, Optimizer, SeveralIteration, _latest_checkpoint

SCRIPT = os.path.join(os.path.dirname(__file__), "_checkpoint_script.py")
ITERATIONS = 1000  # far more than twelve killed runs reach, even with the shortest pauses


def env(pause_ms=0):
    e = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), BIGDL_CORE_NUMBER="1")
    if pause_ms:
        e["BIGDL_TEST_PAUSE_IN_WRITE"] = str(pause_ms)
    return e


def files_under(root):
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)


def check_every_file_loads(root):
    """Every finished file loads as what its name says; returns the complete checkpoints' model
    files (path -> bytes) and the set of temporary files."""
    complete, temps = {}, set()
    for path in files_under(root):
        name = os.path.basename(path)
        if name.startswith(".bigdl-tmp-"):
            temps.add(path)
            continue
        if name.startswith("model."):
            Model.loadModel(path)
            n = int(name.split(".")[-1])
            methods = [f for f in os.listdir(os.path.dirname(path)) if f.startswith("optimMethod-") and
                       f.endswith(".%d" % n)]
            assert methods, "%s has no optim method beside it" % path
            complete[path] = open(path, "rb").read()
        elif name.startswith("optimMethod-"):
            OptimMethod.load(path)
        else:
            raise AssertionError("unexpected file %s" % path)
    return complete, temps


def test_sigkilled_training_resumes_from_the_newest_checkpoint_bit_for_bit(tmp_path):
    ref = tmp_path / "ref.npy"
    subprocess.run([sys.executable, SCRIPT, str(tmp_path / "ref_ckpt"), str(ref), str(ITERATIONS)],
                   check=True, env=env(), timeout=120, capture_output=True)
    root = tmp_path / "ckpt"
    out = tmp_path / "out.npy"
    rnd = random.Random(11)
    kills, in_write, checks, resumed = 0, 0, 0, 0
    saved, temps = {}, set()
    while kills < 12:
        # Every write pauses halfway (the test hook), so much of a run's time is spent inside a
        # checkpoint's write and a random kill often lands there; others land in start-up or
        # between writes.
        p = subprocess.Popen([sys.executable, SCRIPT, str(root), str(out), str(ITERATIONS)],
                             env=env(pause_ms=rnd.choice([30, 60, 150])),
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(rnd.uniform(0.3, 3.0))
        if p.poll() is not None:
            pytest.fail("the run finished before it was killed; raise ITERATIONS")
        p.send_signal(signal.SIGKILL)
        stdout, _ = p.communicate()
        resumed += "resuming from" in stdout
        kills += 1
        complete, now_temps = check_every_file_loads(root)
        checks += len(complete)
        in_write += bool(now_temps - temps)  # this kill left a write half done
        temps = now_temps
        for path, data in saved.items():  # no later run changed or removed a finished checkpoint
            assert complete.get(path) == data, path
        saved = complete
    assert in_write >= 3, "only %d of %d kills landed inside a write" % (in_write, kills)
    assert resumed >= 5
    found = _latest_checkpoint(str(root))
    assert found is not None
    p = subprocess.run([sys.executable, SCRIPT, str(root), str(out), str(ITERATIONS)], env=env(), timeout=120,
                       capture_output=True, text=True, check=True)
    assert "resuming from" in p.stdout
    np.testing.assert_array_equal(np.load(out), np.load(ref))
    print("crash test: %d kills, %d inside a write, %d checkpoints left, %d checkpoint loads checked, "
          "%d resumed runs, the last from %s" % (kills, in_write, len(saved), checks, resumed + 1, found[0]))


def train_with_checkpoints(tmp_path, trigger, iterations, overwrite=True, path=None):
    X = np.random.RandomState(0).randn(30, 4).astype(np.float32)
    Y = np.random.RandomState(1).randint(1, 3, size=30).astype(np.float32)
    model = Sequential().add(Linear(4, 2)).add(LogSoftMax()).set_name("lecture")
    opt = Optimizer(model, (X, Y), ClassNLLCriterion(), MaxIteration(iterations), 10, SGD(0.1))
    opt.set_checkpoint(trigger, str(path or tmp_path / "ckpt"), isOverWrite=overwrite)
    opt.optimize()
    return model


def test_bigdl_layout_run_directory_model_and_optim_method_files(tmp_path):
    model = train_with_checkpoints(tmp_path, SeveralIteration(2), 6)
    runs = os.listdir(tmp_path / "ckpt")
    assert len(runs) == 1 and len(runs[0]) == len("20260101_120000") and runs[0][8] == "_"
    names = sorted(os.listdir(tmp_path / "ckpt" / runs[0]))
    # BigDL names a checkpoint by "neval", the number of the next iteration.
    assert names == ["model.3", "model.5", "model.7", "optimMethod-lecture.3", "optimMethod-lecture.5",
                     "optimMethod-lecture.7"]
    last = Model.loadModel(str(tmp_path / "ckpt" / runs[0] / "model.7"))
    for a, b in zip(last.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert _latest_checkpoint(str(tmp_path / "ckpt"))[0].endswith("model.7")


def test_loaders_skip_temporary_files_and_unpaired_halves(tmp_path):
    train_with_checkpoints(tmp_path, SeveralIteration(2), 4)
    run = tmp_path / "ckpt" / os.listdir(tmp_path / "ckpt")[0]
    (run / "optimMethod-lecture.9").write_bytes((run / "optimMethod-lecture.5").read_bytes())  # no model.9
    (run / ".bigdl-tmp-model.11-123").write_bytes(b"half a file")
    (run / "model.13").write_bytes((run / "model.5").read_bytes())  # no optim method
    assert _latest_checkpoint(str(run))[0] == str(run / "model.5")


def test_checkpoint_path_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_bytes(b"keep me")
    with pytest.raises(ValueError, match="is a file") as e:
        train_with_checkpoints(tmp_path, SeveralIteration(2), 4, path=f)
    assert str(f) in str(e.value)
    assert f.read_bytes() == b"keep me"
    with pytest.raises(OSError, match="is a file") as e:
        _latest_checkpoint(str(f))


def test_unwritable_checkpoint_directory_fails_naming_it(tmp_path):
    ckpt = tmp_path / "ckpt"
    train_with_checkpoints(tmp_path, SeveralIteration(2), 2)
    saved = {p: open(p, "rb").read() for p in files_under(ckpt)}
    os.chmod(ckpt, 0o500)
    try:
        # Root writes through permissions; /proc/self is a directory no one can create files in.
        target = str(ckpt) if not os.access(str(ckpt), os.W_OK) else "/proc/self"
        with pytest.raises(OSError) as e:
            train_with_checkpoints(tmp_path, SeveralIteration(2), 2, path=target)
        assert target in str(e.value)
    finally:
        os.chmod(ckpt, 0o700)
    assert {p: open(p, "rb").read() for p in files_under(ckpt)} == saved


def test_without_over_write_an_existing_checkpoint_fails_and_stays(tmp_path, monkeypatch):
    train_with_checkpoints(tmp_path, SeveralIteration(2), 2)
    run = tmp_path / "ckpt" / os.listdir(tmp_path / "ckpt")[0]
    saved = {p: open(p, "rb").read() for p in files_under(run)}
    # Same second, same run directory: the second run's first checkpoint collides.
    first = os.listdir(tmp_path / "ckpt")[0]
    with pytest.raises(OSError, match="over_write"):
        for _ in range(3):
            train_with_checkpoints(tmp_path, SeveralIteration(2), 2, overwrite=False)
            if os.listdir(tmp_path / "ckpt") != [first]:
                pytest.skip("the clock moved on to a new run directory")
    assert {p: open(p, "rb").read() for p in files_under(run)} == saved


def test_a_dict_of_methods_checkpoints_one_file_each_and_resumes_exactly(tmp_path):
    from bigdl.nn.layer import Dropout, ReLU
    from bigdl.optim.optimizer import Adam
    from bigdl.util.common import RNG
    rs = np.random.RandomState(2)
    X, Y = rs.randn(40, 5).astype(np.float32), rs.randint(1, 4, size=40).astype(np.float32)

    def build():
        RNG().set_seed(9)
        return Sequential().add(Linear(5, 8).set_name("first")).add(ReLU()).add(Dropout(0.2)) \
            .add(Linear(8, 3).set_name("second")).add(LogSoftMax())

    def run(model, methods, iterations, ckpt=None):
        opt = Optimizer(model, (X, Y), ClassNLLCriterion(), MaxIteration(iterations), 8, methods)
        if ckpt:
            opt.set_checkpoint(SeveralIteration(5), str(ckpt))
        opt.optimize()
        return np.concatenate([w.ravel() for w in model.get_weights()])

    straight = run(build(), {"first": SGD(0.1, momentum=0.9), "second": Adam(0.01)}, 20)
    run(build(), {"first": SGD(0.1, momentum=0.9), "second": Adam(0.01)}, 10, tmp_path / "ckpt")
    run_dir = tmp_path / "ckpt" / os.listdir(tmp_path / "ckpt")[0]
    assert sorted(os.listdir(run_dir)) == ["model.11", "model.6", "optimMethod-first.11", "optimMethod-first.6",
                                           "optimMethod-second.11", "optimMethod-second.6"]
    model_file, methods = _latest_checkpoint(str(tmp_path / "ckpt"))
    RNG().set_seed(123)
    resumed = run(Model.loadModel(model_file), {n: OptimMethod.load(p) for n, p in methods.items()}, 20)
    np.testing.assert_array_equal(resumed, straight)
