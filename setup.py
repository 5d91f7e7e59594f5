"""Packaging for bigdl-go: the Python package under python/ plus the Go core, compiled
into a c-shared library (bigdl/_lib/libbigdl.so) that the package loads with ctypes.

The wheel is platform-specific but not tied to a Python ABI (py3-none-<platform>): the
library is plain C ABI loaded by ctypes, so one wheel serves every CPython 3 on a platform,
yet it cannot be `any` because it holds native code.
"""
import os
import sys

from setuptools import Distribution, find_packages, setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1 ships bdist_wheel; older ones rely on the `wheel` package.
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:
    from wheel.bdist_wheel import bdist_wheel

ROOT = os.path.dirname(os.path.abspath(__file__))
# build_native.py sits beside setup.py; pip's build backend does not promise that directory is on sys.path.
sys.path.insert(0, ROOT)
import build_native  # noqa: E402


def read_requirements(name):
    """The requirement lines of a file at the root (one list for setup.py and the Makefile)."""
    with open(os.path.join(ROOT, name)) as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]


class BuildPyWithGo(build_py):
    """build_py that also compiles the Go core into the package, so every wheel ships it."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            # Editable installs import from the source tree, so the library belongs there (as build.sh does).
            target = os.path.join(ROOT, "python", "bigdl", "_lib")
        else:
            target = os.path.join(self.build_lib, "bigdl", "_lib")
        self._native, tag = build_native.build(target)
        # bdist_wheel runs build_py in this process; it tags the wheel by what the library needs.
        self.distribution.native_platform_tag = tag

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
    """Mark the wheel as platform-specific: it holds a .so, so it must never be tagged `any`. When
    zig built the library against glibc 2.17 the wheel says so (manylinux2014), so that plain
    `pip wheel .` and `pip install .` give a portable wheel without an `auditwheel repair` step;
    a library from the system cc keeps the honest tag of this platform (linux_x86_64)."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        # A --plat-name from the caller wins; otherwise build_py has run by the time the name is made.
        tag = getattr(self.distribution, "native_platform_tag", None)
        if tag and not getattr(self, "plat_name_supplied", False):
            plat = tag
        return "py3", "none", plat


setup(
    name="bigdl-go",
    version="0.1.0",
    description="Intel BigDL's Python API on a Go deep-learning core",
    package_dir={"": "python"},
    packages=find_packages(where="python"),
    install_requires=read_requirements("requirements.txt"),
    # notebook: optimize()'s progress bar (tqdm; a widget in Jupyter with ipywidgets) and the
    # plots of examples/training.ipynb (matplotlib).
    extras_require={"spark": ["pyspark"], "notebook": ["tqdm", "ipywidgets", "matplotlib"], "test": ["pytest"]},
    distclass=NativeDistribution,
    cmdclass={"build_py": BuildPyWithGo, "bdist_wheel": PlatformWheel},
    zip_safe=False,  # ctypes needs the .so as a real file on disk
)
