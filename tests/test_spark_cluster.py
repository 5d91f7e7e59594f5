"""The lecture on a real Spark standalone cluster: a Master and two Workers of
one core each on 127.0.0.1, started from pyspark's own launcher, so the
executors are separate JVMs with their own Python workers, as on a cluster.

The Workers get this checkout's python/ on PYTHONPATH, standing in for the
wheel installed on every node. Everything started here is stopped here.
"""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import LECTURE_DIR, PYTHON_DIR, _run_python, child_env

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'bigdl-go[spark]')")
if shutil.which("java") is None:
    pytest.skip("Java is not installed: PySpark needs a JVM", allow_module_level=True)

SPARK_HOME = Path(pyspark.__file__).resolve().parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(cls, args, log, env):
    return subprocess.Popen([str(SPARK_HOME / "bin" / "spark-class"), cls] + args, stdout=log,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _alive_workers(ui_port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/json/" % ui_port, timeout=2) as r:
            state = json.load(r)
        return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")
    except OSError:
        return 0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spark-cluster")
    env = dict(os.environ, SPARK_HOME=str(SPARK_HOME), PYTHONPATH=str(PYTHON_DIR),
               SPARK_LOCAL_IP="127.0.0.1", SPARK_LOG_DIR=str(tmp))
    port, ui = free_port(), free_port()
    master_url = "spark://127.0.0.1:%d" % port
    procs = []
    try:
        procs.append(_start("org.apache.spark.deploy.master.Master",
                            ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)],
                            open(tmp / "master.log", "w"), env))
        for i in range(2):
            wenv = dict(env, SPARK_WORKER_DIR=str(tmp / ("work%d" % i)))
            procs.append(_start("org.apache.spark.deploy.worker.Worker",
                                ["--host", "127.0.0.1", "--cores", "1", "--memory", "2g",
                                 "--webui-port", str(free_port()), master_url],
                                open(tmp / ("worker%d.log" % i), "w"), wenv))
        deadline = time.time() + 90
        while _alive_workers(ui) < 2:
            if time.time() > deadline or any(p.poll() is not None for p in procs):
                pytest.fail("the standalone cluster did not start; logs in %s" % tmp)
            time.sleep(1)
        yield master_url
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, 15)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()


# The executors share this host, so their tasks use shared memory unless told not to;
# one script runs each way (across hosts, TCP is what they would use).
@pytest.mark.parametrize("script,transport,said", [
    ("lecture_logistic.py", "auto", "through shared memory"),
    ("lecture_feedforward.py", "tcp", "over TCP"),
])
def test_lecture_on_a_standalone_cluster(cluster, script, transport, said):
    # The standalone workers' executors may take more than the default 15 s to register on a
    # busy machine; that is the cluster starting, not training.
    env = child_env(LECTURE_SPARK="1", LECTURE_SPARK_MASTER=cluster, BIGDL_SYNC_TRANSPORT=transport,
                    BIGDL_EXECUTOR_WAIT="90")
    p = _run_python(script=LECTURE_DIR / script, cwd=LECTURE_DIR, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    # Both workers' executors took part: two training tasks, no repartitioning down to one.
    assert "training on Spark: 2 tasks" in p.stderr, p.stderr[-3000:]
    assert "tasks exchanged parameters " + said in p.stderr, p.stderr[-3000:]
