"""The wheel is what users get: it must be a platform wheel that carries the Go library and
works in a clean virtualenv on a machine with no Go toolchain and no checkout on sys.path.

Slow-ish (one `go build`, mostly cached, plus one numpy install), so the wheel and the venv
are built once per module and shared by the tests below.
"""
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LECTURE = REPO / "examples"
ARCH = platform.machine()
# What build_native.py promises: the library needs glibc 2.17 at most, so the wheel is manylinux2014.
PLATFORM_TAG = f"manylinux_2_17_{ARCH}.manylinux2014_{ARCH}"

# Top-level entries that are local state, not sources: copying them would be slow or stale.
_LOCAL = {".git", ".venv", "build", "dist", ".pytest_cache"}


def _ignore(dirpath, names):
    here = Path(dirpath)
    skip = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    if here == REPO:
        skip |= _LOCAL & set(names)
    if here == REPO / "python" / "bigdl":
        skip |= {"_lib"} & set(names)  # a checkout build must not leak into the wheel
    return skip


def _clean_env(extra_path=()):
    """os.environ without anything that would let the checkout or a Go toolchain leak in."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LECTURE_SPARK")}
    dirs = [d for d in env.get("PATH", "").split(os.pathsep)
            if d and not os.access(os.path.join(d, "go"), os.X_OK)]
    env["PATH"] = os.pathsep.join([*map(str, extra_path), *dirs])
    assert shutil.which("go", path=env["PATH"]) is None
    return env


def _run(cmd, timeout, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    assert p.returncode == 0, f"{cmd} exited {p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}"
    return p


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    # Build from a copy of the sources: the checkout's build/ may hold stale files that setuptools
    # would ship, and a concurrent `make wheel` must not race with us.
    tmp = tmp_path_factory.mktemp("wheel")
    src, out = tmp / "src", tmp / "dist"
    shutil.copytree(REPO, src, ignore=_ignore, symlinks=True)
    cmd = [sys.executable, "-m", "pip", "wheel", src, "-w", out, "--no-deps", "-q",
           "--disable-pip-version-check"]
    if all(importlib.util.find_spec(m) for m in ("setuptools", "ziglang")):
        cmd.append("--no-build-isolation")  # saves fetching the build requirements into an isolated env
    # As `make wheel` does: without zig the build must fail, not fall back to an unportable library.
    env = dict(os.environ, BIGDL_GO_CC="zig")
    env.pop("PYTHONPATH", None)
    _run(cmd, timeout=900, cwd=tmp, env=env)
    wheels = list(out.glob("bigdl_go-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv_python(wheel, tmp_path_factory):
    """A clean venv (no system site-packages) with only the wheel and what it pulls in (numpy)."""
    tmp = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", tmp / "venv"], timeout=300, cwd=tmp)
    py = tmp / "venv" / "bin" / "python"
    _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel],
         timeout=900, cwd=tmp, env=_clean_env())
    return py


def _run_in_venv(py, args, cwd, timeout=300):
    return _run([py, *args], timeout=timeout, cwd=cwd, env=_clean_env([py.parent]))


def test_wheel_is_platform_specific_and_ships_library(wheel):
    assert not wheel.name.endswith("-none-any.whl"), f"a wheel holding a .so must not be pure: {wheel.name}"
    assert wheel.name.startswith("bigdl_go-0.1.0-py3-none-"), wheel.name
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert "bigdl/_lib/libbigdl.so" in names, names


def test_wheel_is_tagged_manylinux2014(wheel):
    assert wheel.name == f"bigdl_go-0.1.0-py3-none-{PLATFORM_TAG}.whl", wheel.name
    with zipfile.ZipFile(wheel) as z:
        meta = z.read("bigdl_go-0.1.0.dist-info/WHEEL").decode()
    tags = sorted(line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Tag:"))
    assert tags == sorted(f"py3-none-{p}" for p in PLATFORM_TAG.split(".")), meta


def test_auditwheel_agrees_with_the_tag(wheel, tmp_path):
    """The tag is set by setup.py, not by `auditwheel repair`, so check it against what the library
    really links: every versioned glibc symbol and every shared library it needs."""
    if importlib.util.find_spec("auditwheel") is None:
        pytest.fail("auditwheel is needed to check the wheel's tag: pip install -r tests/requirements.txt")
    p = _run([sys.executable, "-m", "auditwheel", "show", wheel], timeout=300, cwd=tmp_path)
    text = " ".join(p.stdout.split())  # auditwheel wraps its sentences at any space
    m = re.search(r'is consistent with the following platform tag: "manylinux_(\d+)_(\d+)_(\w+)"', text)
    assert m, p.stdout
    glibc = (int(m[1]), int(m[2]))
    # auditwheel names the oldest glibc the symbols allow; the wheel may claim that or anything newer.
    assert glibc <= (2, 17) and m[3] == ARCH, f"the wheel says {PLATFORM_TAG}, auditwheel: {p.stdout}"
    # Libraries outside the manylinux policy would be vendored by `repair`; we ship none, so there must be none.
    assert "requires no external shared libraries" in text, p.stdout


def test_installed_library_loads_without_go(venv_python, tmp_path):
    # Load the .so from the installed package, not the checkout: cwd and sys.path exclude the repo.
    script = (
        "import ctypes, importlib.util, pathlib\n"
        "spec = importlib.util.find_spec('bigdl')\n"
        "pkg = pathlib.Path(next(iter(spec.submodule_search_locations)))\n"
        "assert 'site-packages' in str(pkg), pkg\n"
        "so = pkg / '_lib' / 'libbigdl.so'\n"
        "assert so.is_file(), so\n"
        "ctypes.CDLL(str(so))\n"
        "print('ok', so)\n"
    )
    p = _run_in_venv(venv_python, ["-c", script], cwd=tmp_path)
    assert p.stdout.startswith("ok ")


def test_installed_wheel_imports_api(venv_python, tmp_path):
    script = (
        "import bigdl\n"
        "assert 'site-packages' in bigdl.__file__, bigdl.__file__\n"
        "from bigdl.nn.layer import *\n"
        "from bigdl.nn.layer import Linear\n"
        "import bigdl._native as n\n"
        "n.lib()\n"
        "x = Linear(3, 2).forward(np.ones((4, 3), dtype='float32'))\n"
        "assert x.shape == (4, 2), x.shape\n"
        "print('ok')\n"
    )
    p = _run_in_venv(venv_python, ["-c", script], cwd=tmp_path)
    assert p.stdout.strip().endswith("ok")


@pytest.mark.parametrize("script", ["lecture_logistic.py", "lecture_feedforward.py"])
def test_lecture_runs_from_installed_wheel(venv_python, tmp_path, script):
    for f in LECTURE.glob("*.py"):
        shutil.copy(f, tmp_path / f.name)
    _run_in_venv(venv_python, [script], cwd=tmp_path, timeout=600)
