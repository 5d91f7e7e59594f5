"""The lecture scripts with LECTURE_SPARK=1: real PySpark RDDs in local[2].

Until distributed training lands, RDDs are collected to the driver; these
tests prove scripts written for Spark run unchanged. They skip only when
pyspark or Java is absent, and say which.
"""
import shutil

import pytest

from conftest import LECTURE_DIR, _run_python, child_env

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'bigdl-go[spark]')")
if shutil.which("java") is None:
    pytest.skip("Java is not installed: PySpark needs a JVM", allow_module_level=True)


@pytest.mark.parametrize("script", ["lecture_logistic.py", "lecture_feedforward.py"])
def test_lecture_runs_unchanged_on_spark_rdds(script):
    env = child_env(LECTURE_SPARK="1")
    p = _run_python(script=LECTURE_DIR / script, cwd=LECTURE_DIR, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "is a Spark RDD" in p.stderr, "the RDD path was not taken:\n" + p.stderr[-2000:]
