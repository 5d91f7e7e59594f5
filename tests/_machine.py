"""What this machine is, as the test run reports it first: the CPU model, the kernel sets the
Go tests exercise on it, and those skipped with the CPU features they need and it lacks.

Run as a script (`make test` does, after the build) or read by conftest's report header. It
asks the built library in a child interpreter, so the test process itself never loads it.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parents[1] / "python"


def describe():
    """Lines naming the CPU and the kernel sets tested and skipped here."""
    code = "import json, bigdl._native as n; print(json.dumps(n.call(0, 'info')[0]))"
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    env.pop("BIGDL_KERNELS", None)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    if p.returncode != 0:
        return ["machine: the library could not report it: %s" % (p.stderr.strip().splitlines() or ["?"])[-1]]
    info = json.loads(p.stdout.strip().splitlines()[-1])
    sets = info["kernel_sets"]
    tested = [name for name, missing in sets.items() if not missing]
    skipped = ["%s (CPU lacks %s)" % (name, ", ".join(missing)) for name, missing in sets.items() if missing]
    return [
        "CPU: %s" % (info["cpu"] or "unknown"),
        "kernel sets tested: %s; skipped: %s" % (", ".join(tested), "; ".join(skipped) or "none"),
        "default kernels: %s" % info["kernels"],
    ]


if __name__ == "__main__":
    print("\n".join(describe()))
