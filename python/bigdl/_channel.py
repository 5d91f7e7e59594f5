"""The channel between a training run's tasks and its driver.

One TCP server on the driver per optimize() run; every task of the run's
barrier stage (and of its re-runs) connects to it once and keeps the
connection until the run ends. A connection first proves, both ways, that
it holds the run's secret (the challenge-response of core/dist/auth.go, the
driver answering as rank DRIVER_RANK); a connection that does not is closed
and logged, and the run goes on. Then both sides exchange typed JSON
messages, one per line:

  task -> driver  {"type": "register", "stage": k, "rank": r, "addr": "host:port"}
                  {"type": "progress", "lines": [...], "epoch": e, "iteration": i,
                   "epoch_records": r, "loss": l}         (task 0's progress lines and position)
                  {"type": "summary", "scalars": [[tag, step, value, wall], ...]}  (task 0's TrainSummary scalars)
                  {"type": "rejected", "lines": [...]}     (strangers its mesh port dropped)
                  {"type": "result", "segment": s, "group": g, ...}  (a task's share of a segment's end)
  driver -> task  {"type": "peers", "peers": [addresses in rank order], "group": g, "start": {...} or null}
                  {"type": "continue", "segment": s, ...}  (train the next segment)
                  {"type": "stop"}                          (the run is over)
                  {"type": "wait"}                          (the driver is still ending a segment)
                  {"type": "error", "message": "..."}

Registration replaces BarrierTaskContext.allGather (which Spark polls once a
second): the driver answers the stage's tasks with the full peer list as
soon as the last one registers, and, if one never does, fails the others at
the deadline with an error naming it. At each segment's end the tasks send
their results and wait for the driver's "continue" or "stop", so one stage
trains every segment. A message type the driver does not know is ignored,
so the channel can grow.
"""
import hashlib
import hmac
import json
import os
import socket
import struct
import threading
import time

MAGIC = b"BDLA"
DRIVER_RANK = 0xFFFFFFFF
NONCE = 16
MAC = 32
HANDSHAKE_TIMEOUT = 10.0
# A result carries a task's shard of the weights and optim state in base64: a
# model as large as the shared-memory cap (1 GiB) must fit. Only an
# authenticated end can send one.
MAX_MESSAGE = 3 << 30


def heartbeat(timeout):
    """Seconds between the driver's "wait" messages to tasks waiting for it:
    well inside the tasks' deadline."""
    return min(5.0, timeout / 3)


def _from_broadcast(rank):
    """The start of a stage's first segment: the stage's broadcast has it."""
    return None


class AuthError(Exception):
    """The other end did not prove it belongs to the run."""


def _tag(secret, label, nd, na, rd, ra):
    return hmac.new(secret, label + nd + na + struct.pack("<II", rd, ra), hashlib.sha256).digest()


def _read(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise AuthError("closed before the handshake ended" if not buf else "closed in the middle of the handshake")
        buf += chunk
    return buf


def dial_handshake(sock, secret, rank, want=DRIVER_RANK):
    """Proves this end holds secret and checks the other does; returns the
    transcript (nd, na, rd, ra) the session keys derive from."""
    nd = os.urandom(NONCE)
    sock.sendall(MAGIC + struct.pack("<I", rank) + nd)
    ans = _read(sock, 4 + NONCE + MAC)
    ra, na = struct.unpack("<I", ans[:4])[0], ans[4:4 + NONCE]
    if ra != want or not hmac.compare_digest(ans[4 + NONCE:], _tag(secret, b"bigdl accept", nd, na, rank, ra)):
        raise AuthError("the driver's channel did not prove it belongs to this run")
    sock.sendall(_tag(secret, b"bigdl dial", nd, na, rank, ra))
    return nd, na, rank, ra


def accept_handshake(sock, secret, valid, rank=DRIVER_RANK):
    hello = _read(sock, 4 + 4 + NONCE)
    if hello[:4] != MAGIC:
        raise AuthError("a greeting in another protocol")
    rd, nd = struct.unpack("<I", hello[4:8])[0], hello[8:]
    if not valid(rd):
        raise AuthError("it claims rank %d, which is not expected" % rd)
    na = os.urandom(NONCE)
    sock.sendall(struct.pack("<I", rank) + na + _tag(secret, b"bigdl accept", nd, na, rd, rank))
    proof = _read(sock, MAC)
    if not hmac.compare_digest(proof, _tag(secret, b"bigdl dial", nd, na, rd, rank)):
        raise AuthError("it claimed rank %d without the run's secret" % rd)
    return nd, na, rd, rank


class _Sealer(object):
    """Encrypt-then-MAC for the channel's messages when the application asks
    Spark for encryption (Python's standard library has no cipher, so the
    stream is HMAC-SHA256 in counter mode, a PRF keystream, and each frame
    carries an HMAC-SHA256 tag over its counter and ciphertext). Keys per
    direction derive from the secret and the handshake's transcript, as the
    mesh's do (core/dist/seal.go); counters keep any frame from being
    replayed or reordered."""

    def __init__(self, secret, transcript, dialer):
        nd, na, rd, ra = transcript
        out = _tag(secret, b"bigdl key dialer to acceptor", nd, na, rd, ra)
        back = _tag(secret, b"bigdl key acceptor to dialer", nd, na, rd, ra)
        tx, rx = (out, back) if dialer else (back, out)
        self.tx = self._keys(tx)
        self.rx = self._keys(rx)
        self.txn = self.rxn = 0

    @staticmethod
    def _keys(k):
        return (hmac.new(k, b"enc", hashlib.sha256).digest(), hmac.new(k, b"mac", hashlib.sha256).digest())

    @staticmethod
    def _xor(enc, n, data):
        head = struct.pack("<Q", n)
        stream = b"".join(hmac.new(enc, head + struct.pack("<I", i), hashlib.sha256).digest()
                          for i in range((len(data) + 31) // 32))
        return (int.from_bytes(data, "little") ^ int.from_bytes(stream[:len(data)], "little")).to_bytes(len(data), "little")

    def seal(self, data):
        enc, mac = self.tx
        ct = self._xor(enc, self.txn, data)
        tag = hmac.new(mac, struct.pack("<Q", self.txn) + ct, hashlib.sha256).digest()
        self.txn += 1
        return struct.pack("<I", len(ct)) + ct + tag

    def open(self, ct, tag):
        enc, mac = self.rx
        want = hmac.new(mac, struct.pack("<Q", self.rxn) + ct, hashlib.sha256).digest()
        if not hmac.compare_digest(tag, want):
            raise ValueError("a message that does not authenticate (tampered with, or not from this run)")
        data = self._xor(enc, self.rxn, ct)
        self.rxn += 1
        return data


class Connection(object):
    """JSON messages over an authenticated socket: one per line, or one per
    sealed frame when the channel is encrypted."""

    def __init__(self, sock, sealer=None):
        self.sock = sock
        self.sealer = sealer
        self._buf = bytearray()  # grows in place: a result can be hundreds of megabytes
        self._scanned = 0  # bytes of _buf known to hold no newline
        self._lock = threading.Lock()

    def send(self, msg):
        data = json.dumps(msg).encode("utf-8")
        with self._lock:
            self.sock.sendall(self.sealer.seal(data) if self.sealer else data + b"\n")

    def _message(self):
        """The first whole message in the buffer, or None."""
        if self.sealer is None:
            end = self._buf.find(b"\n", self._scanned)
            if end < 0:
                self._scanned = len(self._buf)
                return None
            line = bytes(self._buf[:end])
            del self._buf[:end + 1]
            self._scanned = 0
            return line
        if len(self._buf) < 4:
            return None
        n = struct.unpack("<I", self._buf[:4])[0]
        if n > MAX_MESSAGE:
            raise ValueError("a message longer than %d bytes" % MAX_MESSAGE)
        if len(self._buf) < 4 + n + MAC:
            return None
        ct, tag = bytes(self._buf[4:4 + n]), bytes(self._buf[4 + n:4 + n + MAC])
        del self._buf[:4 + n + MAC]
        return self.sealer.open(ct, tag)

    def recv(self, deadline):
        """The next message, or None once deadline (time.time()) passed;
        EOFError when the other end closed."""
        while True:
            data = self._message()
            if data is not None:
                break
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(min(left, 0.5))
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            if not chunk:
                raise EOFError("the connection closed")
            self._buf += chunk
            if len(self._buf) > MAX_MESSAGE + 64:
                raise ValueError("a message longer than %d bytes" % MAX_MESSAGE)
        msg = json.loads(data.decode("utf-8"))
        if not isinstance(msg, dict):
            raise ValueError("a message that is not a JSON object")
        return msg

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def connect(address, secret, rank, timeout, encrypt=False):
    """A task's authenticated connection to the driver's channel."""
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=min(timeout, HANDSHAKE_TIMEOUT))
    key = bytes.fromhex(secret)
    try:
        transcript = dial_handshake(sock, key, rank)
    except BaseException:
        sock.close()
        raise
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return Connection(sock, _Sealer(key, transcript, True) if encrypt else None)


def _bind(sock, host, ports):
    """Binds sock to host on the first free port of ports ([lo, hi]), or on
    one the system picks."""
    if not ports:
        sock.bind((host, 0))
        return
    for port in range(ports[0], ports[1] + 1):
        try:
            sock.bind((host, port))
            return
        except OSError as e:
            last = e
    sock.close()
    raise OSError("the training channel found no free port in %d-%d on %s: %s" % (ports[0], ports[1], host, last))


class _Group(object):
    """The tasks of one attempt of the stage that registered so far."""

    def __init__(self):
        self.members = {}  # rank -> (Connection, address)
        self.started = None  # when the first task registered


class Driver(object):
    """The driver's end of the channel for one run.

    A run is one barrier stage (a new one only when the driver starts again
    from a checkpoint), whose tasks train every segment without exiting:

    - start_stage(stage, segment) opens registration for the stage's tasks,
      which start at segment from the stage's broadcast;
    - results(segment, check) waits for every rank's result of the segment
      from the latest complete registration, calling check() (which raises
      when the stage failed) between waits;
    - the driver does its segment-end work while the tasks wait (a "wait"
      message every HEARTBEAT seconds keeps their deadline off), then
      proceed(segment, reply, start) sends each task {"type": "continue",
      "segment": segment, **reply(rank)}, or finish() sends {"type": "stop"}.

    A re-run of the stage (Spark's, after a task failed) registers afresh;
    its tasks receive with their peers where to start: start(rank) of the
    latest proceed() (None: the stage's broadcast). A re-run that completes
    its registration while the driver ends a segment waits for the driver's
    next step, so it starts from what the driver decides.

    before_peers, if set (tests), is called with the peer list and the
    channel's address before the tasks receive the list, and may return
    another list to send. With encrypt, every message after the handshake is
    sealed (_Sealer)."""

    before_peers = None
    # on_summary, if set, is called with the rows of task 0's "summary"
    # messages; summary_error keeps the first exception it raised.
    on_summary = None
    summary_error = None
    on_progress = None  # called with task 0's progress messages (the driver's progress bar)

    def __init__(self, bind, advertise, secret, ranks, timeout, log, encrypt=False, ports=None):
        self.secret, self.ranks, self.timeout, self.log = bytes.fromhex(secret), ranks, timeout, log
        self.encrypt = encrypt
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        _bind(self.sock, bind, ports)
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.address = "%s:%d" % (advertise, self.sock.getsockname()[1])
        self._lock = threading.Lock()
        self._stage = None
        self._segment = None  # the segment the tasks train now
        self._group = _Group()  # the registration in progress
        self._current = None  # (group, {rank: Connection}) of the tasks training now
        self._pending = None  # a complete registration held back while the driver ends a segment
        self._busy = False  # the driver is ending a segment: the tasks wait for it
        self._finished = False  # the driver said stop
        self._beat = 0.0
        self._start = _from_broadcast
        self._conns = set()
        self._threads = []
        self._stop = threading.Event()
        self.timings = {}  # segment -> {rank: {phase: seconds}}
        self._groups = 0  # registrations completed so far: each attempt of a stage is one
        self._stage_groups = 0  # those of the current stage
        self._results = {}  # (segment, group) -> {rank: result message}
        self._first_result = {}  # (segment, group) -> when its first result arrived
        self._cond = threading.Condition(self._lock)
        self.first_registered = {}  # segment -> time its first task registered
        self.started = {}  # segment -> when its first task started (the task's clock)
        self.registered = {}  # segment -> time the last rank of its last attempt registered
        self._thread = threading.Thread(target=self._serve, name="bigdl-channel", daemon=True)
        self._thread.start()

    def start_stage(self, stage, segment):
        with self._lock:
            self._stage, self._segment = stage, segment
            self._group, self._current, self._pending = _Group(), None, None
            self._busy = self._finished = False
            self._start = _from_broadcast
            self._stage_groups = 0
            self.timings[segment] = {}

    def _serve(self):
        while not self._stop.is_set():
            try:
                sock, addr = self.sock.accept()
            except socket.timeout:
                self._check_deadline()
                self._keep_waiting()
                continue
            except OSError:
                break
            t = threading.Thread(target=self._serve_conn, args=(sock, "%s:%d" % addr[:2]),
                                 name="bigdl-channel-conn", daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
            t.start()
            self._check_deadline()
            self._keep_waiting()

    def _serve_conn(self, sock, peer):
        with self._lock:
            if self._stop.is_set():
                sock.close()
                return
            self._conns.add(sock)
        try:
            sock.settimeout(min(HANDSHAKE_TIMEOUT, self.timeout))
            try:
                transcript = accept_handshake(sock, self.secret, lambda r: r < self.ranks)
            except (AuthError, OSError) as e:
                reason = "no greeting within %.0fs" % sock.gettimeout() if isinstance(e, socket.timeout) else e
                self.log.warning("the training channel rejected a connection from %s: %s", peer, reason)
                return
            rank = transcript[2]
            conn = Connection(sock, _Sealer(self.secret, transcript, False) if self.encrypt else None)
            while not self._stop.is_set():
                try:
                    msg = conn.recv(time.time() + 0.5)
                except (EOFError, OSError, ValueError):
                    return
                if msg is not None:
                    self._handle(conn, rank, msg)
        finally:
            with self._lock:
                self._conns.discard(sock)
            try:
                sock.close()
            except OSError:
                pass

    def _handle(self, conn, rank, msg):
        kind = msg.get("type")
        if kind == "register":
            self._register(conn, rank, msg)
        elif kind == "progress":
            for line in msg.get("lines", []):
                self.log.info("%s", line)
            if self.on_progress is not None and "iteration" in msg:
                self.on_progress(msg)
        elif kind == "summary":
            if rank == 0 and self.on_summary is not None and self.summary_error is None:
                try:
                    self.on_summary(msg.get("scalars", []))
                except Exception as e:  # raised by the driver between segments, not in this thread
                    self.summary_error = e
        elif kind == "rejected":
            for line in msg.get("lines", []):
                self.log.warning("task %d: %s", rank, line)
        elif kind == "result":
            seg, key = msg.get("segment"), (msg.get("segment"), msg.get("group"))
            with self._lock:
                self._results.setdefault(key, {})[rank] = msg
                self._first_result.setdefault(key, time.time())
                self.timings.setdefault(seg, {})[rank] = msg.get("seconds", {})
                if isinstance(msg.get("started"), (int, float)):
                    self.started[seg] = min(self.started.get(seg, msg["started"]), msg["started"])
                self._cond.notify_all()

    def results(self, segment, check=None):
        """Every rank's result message for segment, in rank order, from the
        tasks training now (a re-run of the stage registers afresh). Waits as
        long as check() (called between waits) does not raise, but once one
        rank's result arrived, the others must follow within the timeout.
        The tasks then wait for proceed() or finish()."""
        while True:
            with self._lock:
                key = (segment, self._current[0] if self._current else None)
                got = self._results.get(key, {})
                if len(got) == self.ranks:
                    self._busy, self._beat = True, time.time()
                    for k in [k for k in self._results if k[0] <= segment]:
                        del self._results[k]  # weights in base64: keep no segment longer than needed
                    return [got[r] for r in range(self.ranks)]
                first = self._first_result.get(key)
                if first is not None and time.time() - first > self.timeout:
                    missing = [r for r in range(self.ranks) if r not in got]
                    raise RuntimeError("training on Spark: task%s %s sent no result for segment %d within %gs of "
                                       "task %s's" % ("s" if len(missing) > 1 else "", ", ".join(map(str, missing)),
                                                      segment, self.timeout, ", ".join(map(str, sorted(got)))))
                self._cond.wait(0.5)
            if check is not None:
                check()

    def proceed(self, segment, reply, start):
        """The tasks training now go on with segment; a re-run of the stage
        from now on starts there from start(rank)."""
        with self._lock:
            self._segment, self._busy, self._start = segment, False, start
            self.timings[segment] = {}
            pending, self._pending = self._pending, None
            members = self._current[1] if self._current else {}
            release = self._release(pending) if pending else None
        if release is not None:  # a later attempt replaced the tasks that sent the results
            for c in members.values():
                self._send(c, {"type": "error", "message": "replaced by a later attempt of the stage"})
            self._send_peers(*release)
            return
        for r, c in members.items():
            msg = {"type": "continue", "segment": segment}
            msg.update(reply(r))
            self._send(c, msg)

    def finish(self):
        """Training is over: the tasks, and any re-run of the stage, stop."""
        with self._lock:
            self._busy, self._finished = False, True
            pending, self._pending = self._pending, None
            conns = list(self._current[1].values()) if self._current else []
            if pending:
                conns += [m[0] for m in pending[1].members.values()]
        for c in conns:
            self._send(c, {"type": "stop"})

    def _register(self, conn, rank, msg):
        if msg.get("rank") != rank:
            self._send(conn, {"type": "error", "message": "registered as rank %r but authenticated as rank %d"
                                                          % (msg.get("rank"), rank)})
            return
        release, send = None, []
        with self._lock:
            if msg.get("stage") != self._stage:
                send.append((conn, {"type": "error", "message": "task %d registered for stage %r, but the run is at "
                                                                "stage %r" % (rank, msg.get("stage"), self._stage)}))
            else:
                g = self._group
                old = g.members.get(rank)
                if not g.members:
                    g.started = time.time()
                    self.first_registered.setdefault(self._segment, g.started)
                if old is not None:  # a later attempt of the task replaces an earlier one
                    send.append((old[0], {"type": "error", "message": "replaced by a later attempt of task %d" % rank}))
                g.members[rank] = (conn, str(msg.get("addr")))
                if len(g.members) == self.ranks:
                    self._groups += 1
                    self._group = _Group()  # a re-run of the stage registers afresh
                    if self._busy:
                        self._pending = (self._groups, g)
                    else:
                        release = self._release((self._groups, g))
        for c, m in send:
            self._send(c, m)
        if release is not None:
            self._send_peers(*release)

    def _release(self, registration):
        """Makes a complete registration the tasks training now (with the lock
        held); returns what _send_peers sends them."""
        group, g = registration
        self._current = (group, {r: m[0] for r, m in g.members.items()})
        self.registered[self._segment] = time.time()
        self._stage_groups += 1
        peers = [g.members[r][1] for r in range(self.ranks)]
        rerun = self._segment if self._stage_groups > 1 else None
        return group, peers, self._current[1], None if self._finished else self._start, rerun

    def _send_peers(self, group, peers, members, start, rerun):
        if start is None:  # the run ended: a re-run after the last segment has nothing to do
            for c in members.values():
                self._send(c, {"type": "stop"})
            return
        if group == 1:  # where the tasks listen: what a cluster's firewall must let through
            self.log.info("training on Spark: the tasks' mesh addresses are %s", peers)
        if rerun is not None:
            self.log.info("training on Spark: a re-run of the stage starts at segment %d", rerun)
        if self.before_peers is not None:
            peers = self.before_peers(peers, self.address) or peers
        for r, c in members.items():
            self._send(c, {"type": "peers", "peers": peers, "group": group, "start": start(r)})

    def _check_deadline(self):
        with self._lock:
            g = self._group
            if not g.members or time.time() - g.started < self.timeout:
                return
            missing = [r for r in range(self.ranks) if r not in g.members]
            message = ("rank%s %s did not register with the driver within %gs (segment %s; registered: %s)"
                       % ("s" if len(missing) > 1 else "", ", ".join(map(str, missing)), self.timeout,
                          self._segment, ", ".join(map(str, sorted(g.members)))))
            members = [m[0] for m in g.members.values()]
            self._group = _Group()
        self.log.warning("training on Spark: %s", message)
        for c in members:
            self._send(c, {"type": "error", "message": message})

    def _keep_waiting(self):
        """While the driver ends a segment, tells the waiting tasks it is alive."""
        with self._lock:
            if not self._busy or time.time() - self._beat < heartbeat(self.timeout):
                return
            self._beat = time.time()
            conns = list(self._current[1].values()) if self._current else []
            if self._pending:
                conns += [m[0] for m in self._pending[1].members.values()]
        for c in conns:
            self._send(c, {"type": "wait"})

    @staticmethod
    def _send(conn, msg):
        try:
            conn.send(msg)
        except OSError:
            pass  # that task is gone; its stage fails on its own

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        with self._lock:
            for s in list(self._conns):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for t in self._threads:
            t.join(5)
