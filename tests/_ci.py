"""What CI=true asks of the suite: a test may skip only because this CPU lacks a kernel set.

CI starts from a fresh clone and installs every test requirement, so any other skip (a missing
package, Java, network namespaces) means the run did not test what it claims: it fails instead.
A test that skips for a missing kernel set says so with a reason starting KERNEL_SET_SKIP.
conftest imports the hooks below; tests/test_ci.py runs them on a small suite of its own.
"""
import os

import pytest

KERNEL_SET_SKIP = "kernel set "


def in_ci():
    return os.environ.get("CI", "").strip().lower() == "true"


def _fail_disallowed_skip(report):
    if not in_ci() or not report.skipped or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if reason.startswith("Skipped: "):
        reason = reason[len("Skipped: "):]
    if reason.startswith(KERNEL_SET_SKIP):
        return
    report.outcome = "failed"
    report.longrepr = ("CI=true: only a kernel set this CPU lacks may skip a test, but this skipped: %s"
                       % reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_disallowed_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_disallowed_skip(outcome.get_result())
