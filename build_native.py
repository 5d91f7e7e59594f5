"""Builds the Go core (./capi) into the c-shared library libbigdl.so. The one way the project
builds it: setup.py imports this for wheels, build.sh runs it for checkouts (PYTHONPATH=python).

    python build_native.py OUT_DIR

The C toolchain decides which Linux machines can load the library. The system cc links against
this machine's glibc (2.34+ on a current distribution), so the library would refuse to load on
Amazon Linux 2, RHEL 8 or Ubuntu 20.04. Zig's `cc` (PyPI's `ziglang`) is a cross toolchain that
ships stubs for old glibc versions, so `-target x86_64-linux-gnu.2.17` gives a library that needs
only glibc 2.17: what the manylinux2014 tag promises, with no manylinux docker image (which our
machines cannot pull).

BIGDL_GO_CC picks the toolchain:
    auto (default)  zig when `ziglang` is importable, else the system cc with a warning
    zig             zig, or fail: release builds (`make wheel`) must not quietly lose the tag
    system          the system cc (honours $CC); the library needs this machine's glibc
"""
import os
import platform
import shlex
import shutil
import subprocess
import sys

LIB_NAME = "libbigdl.so"
ROOT = os.path.dirname(os.path.abspath(__file__))

# glibc 2.17 is manylinux2014's baseline (CentOS 7); the wheel tag and the zig target must agree.
GLIBC = "2.17"
MANYLINUX_TAG = "manylinux_2_17_{arch}.manylinux2014_{arch}"
# Zig targets by the Go architecture we build for; the kernels are amd64 today.
_ZIG_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}

# -s -w: no symbol table or DWARF (the Go runtime keeps its own tables, so panics still print
# stack traces), which roughly halves the library. zig cc lets the -g that Go appends after -s
# win, so the external linker is told to strip as well.
LDFLAGS = "-s -w -extldflags=-Wl,--strip-all"


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


def _zig():
    """Path of the zig binary that the `ziglang` package ships, or None."""
    try:
        import ziglang
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(ziglang.__file__), "zig")
    return path if os.access(path, os.X_OK) else None


def _quote(arg):
    # Go splits $CC into words itself (cmd/internal/quoted), honouring single or double quotes.
    if not any(c.isspace() or c in "'\"" for c in arg):
        return arg
    if "'" not in arg:
        return f"'{arg}'"
    if '"' not in arg:
        return f'"{arg}"'
    raise SystemExit(f"bigdl-go: cannot pass a path with both kinds of quotes to go as $CC: {arg}")


def choose_cc(warn=True):
    """(CC for cgo or None for the system's, platform tag or None for the native one). warn: say so
    when auto falls back to the system cc (a wheel loses its manylinux tag; a checkout loses nothing)."""
    mode = os.environ.get("BIGDL_GO_CC", "auto").strip().lower() or "auto"
    if mode not in ("auto", "zig", "system"):
        raise SystemExit(f"bigdl-go: BIGDL_GO_CC must be auto, zig or system, not {mode!r}")
    if mode == "system":
        return None, None
    arch = _ZIG_ARCH.get(platform.machine().lower())
    zig = _zig()
    if sys.platform.startswith("linux") and arch and zig:
        cc = f"{_quote(zig)} cc -target {arch}-linux-gnu.{GLIBC}"
        return cc, MANYLINUX_TAG.format(arch=arch)
    why = ("`ziglang` is not importable by " + sys.executable if not zig
           else f"zig cross builds are set up for Linux on x86_64/aarch64, not {sys.platform}/{platform.machine()}")
    if mode == "zig":
        raise SystemExit(f"bigdl-go: BIGDL_GO_CC=zig, but {why}. pip install ziglang, or unset BIGDL_GO_CC.")
    if not warn:
        return None, None
    print(f"bigdl-go: warning: {why}; building with the system C compiler instead, so the library "
          "needs this machine's glibc (or newer) and the wheel gets this platform's plain tag, "
          "not manylinux. pip install ziglang for a portable build.", file=sys.stderr, flush=True)
    return None, None


def build(out_dir, warn=True):
    """Builds OUT_DIR/libbigdl.so; returns (its path, the manylinux tag it earned or None)."""
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(os.path.abspath(out_dir), LIB_NAME)
    cc, tag = choose_cc(warn)
    env = dict(os.environ, GOEXPERIMENT="simd", CGO_ENABLED="1")
    if cc:
        env["CC"] = cc
    # -trimpath keeps build paths out of the binary (reproducible wheels); -buildvcs=false because
    # pip may build from a copy with no .git, or one git refuses to read, and stamping is useless here.
    cmd = [find_go(), "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false",
           "-ldflags=" + LDFLAGS, "-o", out, "./capi"]
    print("bigdl-go:", f"CC={shlex.quote(cc)}" if cc else "(system cc)", shlex.join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    # go writes a C header beside the library; Python never reads it, so keep it out of the wheel.
    header = os.path.join(out_dir, "libbigdl.h")
    if os.path.exists(header):
        os.remove(header)
    return out, tag


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python build_native.py OUT_DIR")
    # A checkout build serves this machine only, so the system cc is as good: no warning.
    path, tag = build(sys.argv[1], warn=False)
    print(f"built {os.path.join(sys.argv[1], LIB_NAME)}" + (f" (glibc {GLIBC}+, {tag})" if tag else " (needs this machine's glibc)"))
