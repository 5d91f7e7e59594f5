"""Packaging for bigdl-go: the Python package under python/ plus the Go core, compiled
into a c-shared library (bigdl/_lib/libbigdl.so) that the package loads with ctypes.

The wheel is platform-specific but not tied to a Python ABI (py3-none-<platform>): the
library is plain C ABI loaded by ctypes, so one wheel serves every CPython 3 on a platform,
yet it cannot be `any` because it holds native code.
"""
import os
import shutil
import subprocess

from setuptools import Distribution, find_packages, setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1 ships bdist_wheel; older ones rely on the `wheel` package.
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:
    from wheel.bdist_wheel import bdist_wheel

ROOT = os.path.dirname(os.path.abspath(__file__))
LIB_NAME = "libbigdl.so"


def read_requirements(name):
    """The requirement lines of a file at the root (one list for setup.py and the Makefile)."""
    with open(os.path.join(ROOT, name)) as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]


def find_go():
    """The go binary: $GO if set, else PATH, else the toolchain's usual home (pip may trim PATH)."""
    candidates = [os.environ["GO"]] if os.environ.get("GO") else [shutil.which("go"), "/usr/local/go/bin/go"]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit(
        "bigdl-go: building the native library needs the Go toolchain (1.26+), but `go` was not found"
        + (f" at GO={os.environ['GO']}" if os.environ.get("GO") else "") + ".\n"
        "Install Go and put it on PATH (or set GO=/path/to/go), or install a prebuilt bigdl-go wheel."
    )


def build_native(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, LIB_NAME)
    env = dict(os.environ, GOEXPERIMENT="simd", CGO_ENABLED="1")
    # -trimpath keeps build paths out of the binary (reproducible wheels); -buildvcs=false because
    # pip may build from a copy with no .git, or one git refuses to read, and stamping is useless here.
    cmd = [find_go(), "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o", out, "./capi"]
    print("bigdl-go:", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    # go writes a C header beside the library; Python never reads it, so keep it out of the wheel.
    header = os.path.join(out_dir, "libbigdl.h")
    if os.path.exists(header):
        os.remove(header)
    return out


class BuildPyWithGo(build_py):
    """build_py that also compiles the Go core into the package, so every wheel ships it."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            # Editable installs import from the source tree, so the library belongs there (as build.sh does).
            target = os.path.join(ROOT, "python", "bigdl", "_lib")
        else:
            target = os.path.join(self.build_lib, "bigdl", "_lib")
        self._native = build_native(target)

    def get_outputs(self, include_bytecode=1):
        outputs = super().get_outputs(include_bytecode)
        native = getattr(self, "_native", None)
        return outputs + [native] if native else outputs


class NativeDistribution(Distribution):
    """Tell setuptools the distribution holds native code, so it installs into platlib and the
    wheel keeps files at its root (not under .data/purelib), and build_py (which builds the
    library) always runs, even before the package has any Python modules."""

    def has_ext_modules(self):
        return True

    def has_pure_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    """Mark the wheel as platform-specific: it holds a .so, so it must never be tagged `any`."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(
    name="bigdl-go",
    version="0.1.0",
    description="Intel BigDL's Python API on a Go deep-learning core",
    package_dir={"": "python"},
    packages=find_packages(where="python"),
    install_requires=read_requirements("requirements.txt"),
    extras_require={"spark": ["pyspark"], "test": ["pytest"]},
    distclass=NativeDistribution,
    cmdclass={"build_py": BuildPyWithGo, "bdist_wheel": PlatformWheel},
    zip_safe=False,  # ctypes needs the .so as a real file on disk
)
