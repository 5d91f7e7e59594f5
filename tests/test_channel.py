"""The driver's training channel (bigdl/_channel.py) without Spark: tasks
register and receive their peers, strangers are dropped and logged, a task
that never registers fails the others at the deadline, an encrypted
channel carries no plaintext, and at each segment's end the tasks wait for
the driver's word (a re-run of the stage starts where the driver goes on)."""
import logging
import os
import socket
import struct
import threading
import time

import pytest

from bigdl import _channel


class Relay(object):
    """A TCP proxy in front of address that keeps every byte it relays."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.target = (host, int(port))
        self.ln = socket.socket()
        self.ln.bind(("127.0.0.1", 0))
        self.ln.listen(8)
        self.address = "127.0.0.1:%d" % self.ln.getsockname()[1]
        self.seen = bytearray()
        self.lock = threading.Lock()
        self.threads = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept(self):
        while True:
            try:
                a, _ = self.ln.accept()
            except OSError:
                return
            b = socket.create_connection(self.target)
            for x, y in ((a, b), (b, a)):
                t = threading.Thread(target=self._pipe, args=(x, y), daemon=True)
                t.start()
                self.threads.append(t)

    def _pipe(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                with self.lock:
                    self.seen += data
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        try:
            self.ln.shutdown(socket.SHUT_RDWR)  # wakes the accept; close alone does not
        except OSError:
            pass
        self.ln.close()
        for t in self.threads:
            t.join(5)


@pytest.fixture
def log():
    logger = logging.getLogger("bigdl.test_channel")
    logger.setLevel(logging.DEBUG)
    return logger


def register_all(driver, secret, ranks, address=None, encrypt=False, stage=0):
    """Each rank's connection registers; returns each rank's answer."""
    answers = [None] * ranks
    conns = []

    def task(r):
        ch = _channel.connect(address or driver.address, secret, r, 5, encrypt)
        conns.append(ch)
        ch.send({"type": "register", "stage": stage, "rank": r, "addr": "task-%d.example:%d" % (r, 4000 + r)})
        ch.send({"type": "progress", "lines": ["a line from task %d" % r]})
        answers[r] = ch.recv(time.time() + 10)

    threads = [threading.Thread(target=task, args=(r,)) for r in range(ranks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    for c in conns:
        c.close()
    return answers


@pytest.mark.parametrize("encrypt", [False, True])
def test_tasks_receive_every_peer_and_encryption_hides_the_messages(log, caplog, encrypt):
    secret = os.urandom(32).hex()
    driver = _channel.Driver("127.0.0.1", "127.0.0.1", secret, 3, 5, log, encrypt)
    relay = Relay(driver.address)
    try:
        driver.start_stage(0, 0)
        with caplog.at_level(logging.INFO, logger=log.name):
            answers = register_all(driver, secret, 3, relay.address, encrypt)
            time.sleep(0.2)  # the progress lines reach the driver's log
    finally:
        driver.close()
        relay.close()
    want = ["task-%d.example:%d" % (r, 4000 + r) for r in range(3)]
    assert [(a["type"], a["peers"]) for a in answers] == [("peers", want)] * 3
    assert any(r.getMessage() == "a line from task 1" for r in caplog.records)
    # The control (no encryption) shows the check can fail.
    assert (b"task-2.example" in relay.seen) == (not encrypt)
    assert (b"a line from task" in relay.seen) == (not encrypt)


def test_a_missing_rank_fails_the_others_at_the_deadline_and_is_named(log, caplog):
    secret = os.urandom(32).hex()
    driver = _channel.Driver("127.0.0.1", "127.0.0.1", secret, 3, 1.0, log)
    try:
        driver.start_stage(1, 4)
        ch = _channel.connect(driver.address, secret, 0, 5)
        ch.send({"type": "register", "stage": 1, "rank": 0, "addr": "a:1"})
        ch2 = _channel.connect(driver.address, secret, 2, 5)
        ch2.send({"type": "register", "stage": 1, "rank": 2, "addr": "c:1"})
        t0 = time.time()
        with caplog.at_level(logging.WARNING, logger=log.name):
            msg = ch.recv(time.time() + 10)
        assert time.time() - t0 < 5
        ch.close()
        ch2.close()
    finally:
        driver.close()
    assert msg["type"] == "error"
    assert "rank 1 did not register with the driver within 1s (segment 4; registered: 0, 2)" in msg["message"]
    assert any("rank 1 did not register" in r.getMessage() for r in caplog.records)


def test_strangers_are_dropped_and_logged_and_registration_goes_on(log, caplog):
    secret = os.urandom(32).hex()
    driver = _channel.Driver("127.0.0.1", "127.0.0.1", secret, 2, 5, log)
    host, port = driver.address.rsplit(":", 1)
    try:
        driver.start_stage(0, 0)
        with caplog.at_level(logging.WARNING, logger=log.name):
            for kind in ("garbage", "wrong secret", "scan"):
                with socket.create_connection((host, int(port))) as s:
                    if kind == "garbage":
                        s.sendall(b"GET / HTTP/1.0\r\n\r\n and more bytes than a greeting")
                    elif kind == "wrong secret":
                        s.sendall(b"BDLA" + struct.pack("<I", 0) + os.urandom(16) + os.urandom(32))
                    time.sleep(0.1)
            # A task of another run (another secret) is a stranger too.
            with pytest.raises(_channel.AuthError):
                _channel.connect(driver.address, os.urandom(32).hex(), 0, 5)
            answers = register_all(driver, secret, 2)
            time.sleep(0.3)
    finally:
        driver.close()
    assert [a["type"] for a in answers] == ["peers", "peers"]
    rejected = [r.getMessage() for r in caplog.records if "rejected a connection from 127.0.0.1:" in r.getMessage()]
    assert len(rejected) == 4, rejected
    assert not any(secret in r.getMessage() for r in caplog.records)


def test_a_tampered_frame_is_refused():
    sealer = _channel._Sealer(b"k" * 32, (b"n" * 16, b"m" * 16, 0, _channel.DRIVER_RANK), True)
    reader = _channel._Sealer(b"k" * 32, (b"n" * 16, b"m" * 16, 0, _channel.DRIVER_RANK), False)
    frame = bytearray(sealer.seal(b'{"type": "peers"}'))
    n = struct.unpack("<I", frame[:4])[0]
    assert reader.open(bytes(frame[4:4 + n]), bytes(frame[4 + n:])) == b'{"type": "peers"}'
    frame = bytearray(sealer.seal(b'{"type": "peers"}'))
    frame[6] ^= 1
    with pytest.raises(ValueError, match="does not authenticate"):
        reader.open(bytes(frame[4:4 + n]), bytes(frame[4 + n:]))


@pytest.mark.parametrize("size,encrypt", [(40 << 20, False), (2 << 20, True)])
def test_a_large_message_crosses_whole(size, encrypt):
    # A result carries a task's shard of the weights: many megabytes for a large model.
    a, b = socket.socketpair()
    transcript = (b"n" * 16, b"m" * 16, 0, _channel.DRIVER_RANK)
    ca = _channel.Connection(a, _channel._Sealer(b"k" * 32, transcript, True) if encrypt else None)
    cb = _channel.Connection(b, _channel._Sealer(b"k" * 32, transcript, False) if encrypt else None)
    payload = "x" * size
    t = threading.Thread(target=lambda: (ca.send({"type": "result", "weights": payload}), ca.send({"type": "end"})))
    t.start()
    try:
        assert cb.recv(time.time() + 60) == {"type": "result", "weights": payload}
        assert cb.recv(time.time() + 60) == {"type": "end"}
    finally:
        t.join(60)
        ca.close()
        cb.close()


def test_the_channel_listens_in_the_port_range_it_is_given(log, monkeypatch):
    from bigdl import _spark
    taken = _channel.Driver("127.0.0.1", "127.0.0.1", os.urandom(32).hex(), 1, 5, log)
    port = int(taken.address.rsplit(":", 1)[1])
    monkeypatch.setenv("BIGDL_DRIVER_PORTS", "%d-%d" % (port, port + 40))
    try:
        d = _channel.Driver("127.0.0.1", "127.0.0.1", os.urandom(32).hex(), 1, 5, log, ports=_spark.mesh_ports(
            "BIGDL_DRIVER_PORTS"))
        got = int(d.address.rsplit(":", 1)[1])
        d.close()
        assert port < got <= port + 40
        with pytest.raises(OSError, match="no free port in %d-%d" % (port, port)):
            _channel.Driver("127.0.0.1", "127.0.0.1", os.urandom(32).hex(), 1, 5, log, ports=[port, port])
    finally:
        taken.close()
    monkeypatch.setenv("BIGDL_DRIVER_PORTS", "7000:7100")
    with pytest.raises(ValueError, match="BIGDL_DRIVER_PORTS must be a port range"):
        _spark.mesh_ports("BIGDL_DRIVER_PORTS")


def test_task_progress_reaches_the_drivers_progress_bar(log, caplog):
    """Task 0's progress messages carry its position; the driver logs their lines and hands
    the position to on_progress (optimize()'s bar). Lines alone move no bar."""
    secret = os.urandom(32).hex()
    driver = _channel.Driver("127.0.0.1", "127.0.0.1", secret, 1, 5, log)
    got = []
    driver.on_progress = got.append
    position = {"type": "progress", "lines": ["[Iteration 7] a line"], "epoch": 2, "iteration": 7,
                "epoch_records": 48, "loss": 0.5}
    try:
        driver.start_stage(0, 0)
        ch = _channel.connect(driver.address, secret, 0, 5)
        with caplog.at_level(logging.INFO, logger=log.name):
            ch.send({"type": "progress", "lines": ["only a line"]})
            ch.send(position)
            deadline = time.time() + 5
            while not got and time.time() < deadline:
                time.sleep(0.02)
        ch.close()
    finally:
        driver.close()
    assert got == [position]
    assert [r.getMessage() for r in caplog.records if "line" in r.getMessage()] == ["only a line", "[Iteration 7] a line"]


class Task(object):
    """One task's end of the channel, as bigdl/_spark.py's tasks use it."""

    def __init__(self, driver, secret, rank, stage=0):
        self.rank = rank
        self.ch = _channel.connect(driver.address, secret, rank, 5)
        self.ch.send({"type": "register", "stage": stage, "rank": rank, "addr": "task-%d:1" % rank})

    def next(self, seconds=5, skip=("wait",)):
        """The driver's next message of a type not in skip (None if none came in time)."""
        deadline = time.time() + seconds
        while True:
            msg = self.ch.recv(deadline)
            if msg is None or msg["type"] not in skip:
                return msg

    def result(self, segment, group):
        self.ch.send({"type": "result", "segment": segment, "group": group, "rank": self.rank})


def test_tasks_go_on_or_stop_at_the_drivers_word_and_are_kept_waiting_meanwhile(log):
    secret = os.urandom(32).hex()
    driver = _channel.Driver("127.0.0.1", "127.0.0.1", secret, 2, 0.9, log)  # a "wait" every 0.3 s
    try:
        driver.start_stage(0, 0)
        tasks = [Task(driver, secret, r) for r in range(2)]
        peers = [t.next() for t in tasks]
        assert [(m["type"], m["start"]) for m in peers] == [("peers", None)] * 2  # the broadcast has the start
        group = peers[0]["group"]
        for segment in range(3):
            for t in tasks:
                t.result(segment, group)
            got = driver.results(segment)
            assert [m["rank"] for m in got] == [0, 1]
            # The driver ends the segment for longer than the tasks' deadline would allow
            # without its "wait" messages (the task side restarts its deadline on each).
            waits = [t.next(0.8, skip=()) for t in tasks]
            assert [m["type"] for m in waits] == ["wait", "wait"], waits
            if segment < 2:
                driver.proceed(segment + 1, lambda r: {"resume": "rank %d's" % r}, lambda r: None)
                assert [t.next() for t in tasks] == [
                    {"type": "continue", "segment": segment + 1, "resume": "rank %d's" % r} for r in range(2)]
        driver.finish()
        assert [t.next() for t in tasks] == [{"type": "stop"}] * 2
        for t in tasks:
            t.ch.close()
    finally:
        driver.close()


def test_a_rerun_registering_while_the_driver_ends_a_segment_starts_from_its_next_step(log):
    secret = os.urandom(32).hex()
    driver = _channel.Driver("127.0.0.1", "127.0.0.1", secret, 2, 2, log)
    try:
        driver.start_stage(0, 0)
        old = [Task(driver, secret, r) for r in range(2)]
        group = [t.next() for t in old][0]["group"]
        for t in old:
            t.result(0, group)
        driver.results(0)
        # Spark re-runs the stage while the driver validates: the new tasks hear nothing yet...
        new = [Task(driver, secret, r) for r in range(2)]
        assert [t.next(0.5) for t in new] == [None, None]
        # ...then start where the driver goes on from, and the old ones are told they were replaced.
        driver.proceed(1, lambda r: {"resume": r}, lambda r: {"segment": 1, "weights of": r})
        answers = [t.next() for t in new]
        assert [(m["type"], m["start"]) for m in answers] == [("peers", {"segment": 1, "weights of": r})
                                                              for r in range(2)]
        assert [t.next()["message"] for t in old] == ["replaced by a later attempt of the stage"] * 2
        # The driver takes segment 1's results from the new tasks only.
        for t in old:
            t.result(1, group)
        new[0].result(1, answers[0]["group"])
        with pytest.raises(RuntimeError, match=r"task 1 sent no result for segment 1 within 2s of task 0's"):
            driver.results(1)
        driver.finish()
        # A re-run after the last segment has nothing to do.
        late = [Task(driver, secret, r) for r in range(2)]
        assert [t.next() for t in late] == [{"type": "stop"}] * 2
        for t in old + new + late:
            t.ch.close()
    finally:
        driver.close()


def test_waiting_for_results_ends_when_the_stage_fails(log):
    driver = _channel.Driver("127.0.0.1", "127.0.0.1", os.urandom(32).hex(), 2, 5, log)
    calls = []

    def check():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the stage failed")

    try:
        driver.start_stage(0, 0)
        t0 = time.time()
        with pytest.raises(RuntimeError, match="the stage failed"):
            driver.results(0, check)
        assert time.time() - t0 < 3
    finally:
        driver.close()
