"""The examples in examples/ beyond the lecture scripts run, unchanged, and learn."""
import re

from conftest import LECTURE_DIR, _run_python


def test_two_input_graph_example_trains():
    p = _run_python(script=LECTURE_DIR / "two_input_graph.py", cwd=LECTURE_DIR, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    acc = re.search(r"Evaluated result: ([0-9.]+), total_num: 500, method: Top1Accuracy", p.stdout)
    assert acc and float(acc.group(1)) > 0.95, p.stdout
    assert "predicted classes of three test records" in p.stdout
