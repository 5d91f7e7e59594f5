"""Spark across hosts: a standalone cluster whose master, two workers and
driver each run in a network namespace of their own (own IP on a veth pair,
all joined by a Linux bridge in a hub namespace) and with a /dev/shm of their
own (a private tmpfs mounted after `unshare -m`), so the training tasks must
use TCP between hosts and advertise addresses the others can reach.

Everything lives in namespaces this module creates: nothing is bound or sent
on the host's own addresses. The fixture stops every process and deletes
every namespace, also when a test fails. A machine that refuses network
namespaces (not root, no `ip`) skips with the reason; under CI=true that skip
fails the run (tests/_ci.py).
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import LECTURE_DIR, PYTHON_DIR, child_env

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'bigdl-go[spark]')")
if shutil.which("java") is None:
    pytest.skip("Java is not installed: PySpark needs a JVM", allow_module_level=True)

SPARK_HOME = Path(pyspark.__file__).resolve().parent
TESTS_DIR = Path(__file__).resolve().parent
NODES = ["driver", "master", "worker1", "worker2"]


def _ip(*args):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=30)


class Cluster(object):
    def __init__(self, tmp):
        self.tmp = tmp
        self.tag = "bd%04x" % (os.getpid() & 0xFFFF)
        self.subnet = "10.%d.%d" % (200 + os.getpid() % 50, os.getpid() // 50 % 250)
        self.addr = {n: "%s.%d" % (self.subnet, 10 + i) for i, n in enumerate(NODES)}
        self.namespaces = []
        self.procs = []

    def ns(self, node):
        return "%s-%s" % (self.tag, node)

    def check(self, *args):
        p = _ip(*args)
        if p.returncode != 0:
            raise RuntimeError("ip %s: %s" % (" ".join(args), p.stderr.strip()))

    def build(self):
        hub = self.ns("hub")
        self.check("netns", "add", hub)
        self.namespaces.append(hub)
        self.check("-n", hub, "link", "add", "br0", "type", "bridge")
        self.check("-n", hub, "link", "set", "br0", "up")
        for i, node in enumerate(NODES):
            ns = self.ns(node)
            self.check("netns", "add", ns)
            self.namespaces.append(ns)
            a, b = "%s%da" % (self.tag, i), "%s%db" % (self.tag, i)
            self.check("link", "add", a, "netns", hub, "type", "veth", "peer", "name", b, "netns", ns)
            self.check("-n", hub, "link", "set", a, "master", "br0", "up")
            self.check("-n", ns, "addr", "add", self.addr[node] + "/24", "dev", b)
            self.check("-n", ns, "link", "set", b, "up")
            self.check("-n", ns, "link", "set", "lo", "up")

    def command(self, node, argv):
        """argv run on node: in its network namespace, with a private /dev/shm."""
        return (["ip", "netns", "exec", self.ns(node), "unshare", "-m", "--propagation", "private", "sh", "-c",
                 'mount -t tmpfs -o size=512m,mode=1777 bigdl-test-shm /dev/shm && exec "$@"', "sh"] + list(argv))

    def env(self, node, **extra):
        env = child_env(SPARK_HOME=str(SPARK_HOME), SPARK_LOCAL_IP=self.addr[node], SPARK_LOG_DIR=str(self.tmp),
                        **extra)
        env["PYTHONPATH"] = os.pathsep.join([str(PYTHON_DIR), str(TESTS_DIR)])
        # The workers' executors may take more than the default 15 s to register on a busy
        # machine; that is the cluster starting, not training.
        env.setdefault("BIGDL_EXECUTOR_WAIT", "90")
        return env

    def start(self, node, argv, env):
        log = open(self.tmp / ("%s.log" % node), "w")
        p = subprocess.Popen(self.command(node, argv), stdout=log, stderr=subprocess.STDOUT, env=env,
                             start_new_session=True)
        self.procs.append(p)
        return p

    def run(self, node, argv, timeout, **extra):
        return subprocess.run(self.command(node, argv), capture_output=True, text=True, timeout=timeout,
                              env=self.env(node, **extra), start_new_session=True)

    def stop(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, 15)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()
        for ns in reversed(self.namespaces):
            _ip("netns", "del", ns)


def _refusal():
    """Why this machine cannot build the cluster, or None."""
    if shutil.which("ip") is None or shutil.which("unshare") is None:
        return "network namespaces need iproute2's `ip` and util-linux's `unshare`"
    name = "bdprobe%d" % os.getpid()
    p = _ip("netns", "add", name)
    if p.returncode != 0:
        return "this machine refuses network namespaces (`ip netns add`: %s)" % p.stderr.strip()
    _ip("netns", "del", name)
    return None


@pytest.fixture(scope="module")
def netns_cluster(tmp_path_factory):
    why = _refusal()
    if why:
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("netns-cluster")
    c = Cluster(tmp)
    try:
        c.build()
        master = c.addr["master"]
        url = "spark://%s:7077" % master
        c.start("master", [str(SPARK_HOME / "bin" / "spark-class"), "org.apache.spark.deploy.master.Master",
                           "--host", master, "--port", "7077", "--webui-port", "8080"], c.env("master"))
        for w in ("worker1", "worker2"):
            c.start(w, [str(SPARK_HOME / "bin" / "spark-class"), "org.apache.spark.deploy.worker.Worker",
                        "--host", c.addr[w], "--cores", "1", "--memory", "2g", "--webui-port", "8081", url],
                    c.env(w, SPARK_WORKER_DIR=str(tmp / ("work-" + w))))
        deadline = time.time() + 120
        while len(re.findall(r"Registering worker", (tmp / "master.log").read_text())) < 2:
            if time.time() > deadline or any(p.poll() is not None for p in c.procs):
                raise RuntimeError("the namespace cluster did not start; logs in %s:\n%s"
                                   % (tmp, (tmp / "master.log").read_text()[-2000:]))
            time.sleep(1)
        yield c, url
    finally:
        c.stop()


def test_lecture_across_namespaces_trains_over_tcp_on_reachable_addresses(netns_cluster):
    c, url = netns_cluster
    p = c.run("driver", [sys.executable, str(LECTURE_DIR / "lecture_logistic.py")], timeout=900,
              LECTURE_SPARK="1", LECTURE_SPARK_MASTER=url)
    assert p.returncode == 0, p.stderr[-4000:]
    assert "training on Spark: 2 tasks" in p.stderr, p.stderr[-3000:]
    assert "tasks exchanged parameters over TCP" in p.stderr, p.stderr[-3000:]
    peers = re.search(r"the tasks' mesh addresses are \[([^\]]*)\]", p.stderr)
    assert peers, p.stderr[-3000:]
    hosts = sorted(a.strip(" '\"").rsplit(":", 1)[0] for a in peers.group(1).split(","))
    assert hosts == sorted([c.addr["worker1"], c.addr["worker2"]]), hosts
    assert not any(h.startswith("127.") for h in hosts)


FAULT = textwrap.dedent("""
    import time
    import numpy as np
    from pyspark import SparkContext
    from bigdl.util.common import create_spark_conf
    import test_distributed as t
    sc = SparkContext.getOrCreate(create_spark_conf().setMaster(%r).setAppName("netns-fault"))
    sc.setLogLevel("ERROR")
    X, y = t.data(400, 3)
    ref = t.train(sc.parallelize(t.samples(X, y), 2), epochs=3, seed=7, dropout=True)
    sc.environment["BIGDL_TEST_FAIL_TASK"] = "1:20:%%d" %% time.time_ns()
    before = t.all_stage_ids(sc)
    got = t.train(sc.parallelize(t.samples(X, y), 2), epochs=3, seed=7, dropout=True)
    stages = t.barrier_stages_since(sc, before)
    assert any(s[4] > 0 and s[2] == s[3] == 2 for s in stages), "no stage was re-run: %%s" %% stages
    for a, b in zip(ref.get_weights(), got.get_weights()):
        assert np.array_equal(a, b)
    print("RERUN IDENTICAL")
""")


def test_failed_task_reruns_the_stage_across_namespaces(netns_cluster):
    c, url = netns_cluster
    p = c.run("driver", [sys.executable, "-c", FAULT % url], timeout=900)
    assert p.returncode == 0 and "RERUN IDENTICAL" in p.stdout, p.stderr[-4000:]
    assert "tasks exchanged parameters over TCP" in p.stderr, p.stderr[-3000:]
