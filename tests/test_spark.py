"""The lecture scripts with LECTURE_SPARK=1: real PySpark RDDs in local[2].

Training runs on the executors: the scripts run in a wrapper that, after the
script finished, reads Spark's own status tracker and prints the stages that
ran, so the test sees barrier training stages with one task per partition.
They skip only when pyspark or Java is absent, and say which.
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
    code = WRAPPER % str(LECTURE_DIR / script)
    p = _run_python(code=code, cwd=LECTURE_DIR, env=env, timeout=400)
    assert p.returncode == 0, p.stderr[-3000:]
    stages = [line.split("\t") for line in p.stdout.splitlines() if line.startswith("STAGE\t")]
    # The training stage (in bigdl/_spark.py) that ran 2 tasks, one per partition, all completed:
    # one for the run's 20 segments (validation every epoch).
    training = [s for s in stages if "partitionBy at" in s[2] and "_spark.py" in s[2] and s[3] == "2" and s[4] == "2"]
    assert len(training) == 1, "training did not run on the executors in one stage: %s\n%s" % (stages, p.stderr[-2000:])


WRAPPER = """
import runpy, sys
sys.argv = [%r]
sys.path.insert(0, ".")
runpy.run_path(sys.argv[0], run_name="__main__")
from pyspark import SparkContext
st = SparkContext._active_spark_context.statusTracker()
for job in st.getJobIdsForGroup():
    for sid in st.getJobInfo(job).stageIds:
        s = st.getStageInfo(sid)
        if s is not None:
            print("STAGE\\t%%d\\t%%s\\t%%d\\t%%d" %% (sid, s.name, s.numTasks, s.numCompletedTasks))
"""
