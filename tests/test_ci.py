"""The CI=true rule of tests/_ci.py, on a small suite run by a child pytest."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

SUITE = {
    "test_module_skip.py": """
        import pytest
        pytest.importorskip("no_such_package_here")
        def test_never():
            pass
        """,
    "test_skips.py": """
        import pytest
        def test_missing_tool():
            pytest.skip("Java is not installed")
        def test_missing_kernel_set():
            pytest.skip("kernel set avx512 skipped: this CPU lacks AVX512F")
        @pytest.mark.xfail(reason="known")
        def test_expected_failure():
            assert False
        def test_passes():
            pass
        """,
}


def _run_suite(tmp_path, ci):
    for name, text in SUITE.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    (tmp_path / "conftest.py").write_text("from _ci import pytest_runtest_makereport, pytest_make_collect_report\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = str(TESTS)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           "--continue-on-collection-errors", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=str(tmp_path))


@pytest.mark.parametrize("ci", [None, "false"])
def test_outside_ci_every_skip_is_a_skip(tmp_path, ci):
    p = _run_suite(tmp_path, ci)
    assert p.returncode == 0, p.stdout
    assert "1 passed, 3 skipped, 1 xfailed" in p.stdout, p.stdout


def test_in_ci_only_a_missing_kernel_set_may_skip(tmp_path):
    p = _run_suite(tmp_path, "true")
    assert p.returncode != 0, p.stdout
    out = p.stdout
    assert "FAILED test_skips.py::test_missing_tool" in out, out
    assert "SKIPPED [1] test_skips.py" in out and "this CPU lacks AVX512F" in out, out
    assert "ERROR test_module_skip.py" in out and "no_such_package_here" in out, out
    assert "1 xfailed" in out, out
