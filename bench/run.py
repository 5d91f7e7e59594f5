"""make bench: bigdl-go against its peers, side by side, on this machine.

1. SGEMM GFLOP/s: ours (through the C ABI) against numpy's OpenBLAS in this
   process, at 1 and 2 threads, square sizes and the MLP's shapes.
2. Training throughput (records/s) through the Python API against a plain
   numpy implementation of the same training and PyTorch (when importable),
   each run in its own process so its peak RSS can be read.

Prints markdown tables; BENCHMARKS.md records a run with the machine's details.
--gemm-only and --training-only run one part; --avx2 forces everyone's AVX2
code paths (see _FORCE_AVX2) on a CPU with AVX-512; --cpu-time adds, for one
thread, SGEMM rates and training ratios per second on a CPU.
"""
import json
import os
import platform
import subprocess
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# OpenBLAS overrides set on some machines slow a current numpy: measure it as shipped.
_OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# --avx2 measures everyone's AVX2+FMA code on a CPU that has AVX-512, as a
# machine without it would run: our avx2 set, OpenBLAS's Haswell kernels and
# PyTorch's AVX2 paths (ATen's, oneDNN's, and MKL's, its BLAS). Figures taken
# so are only indicative of such a machine (same cores, caches and clocks as
# this one).
_FORCE_AVX2 = {"BIGDL_KERNELS": "avx2", "OPENBLAS_CORETYPE": "Haswell",
               "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
               "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
if "--avx2" in sys.argv:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_L2_SIZE"}
    env.update(_FORCE_AVX2)
    if env != dict(os.environ):
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
elif any(k in os.environ for k in _OPENBLAS_OVERRIDES):
    env = {k: v for k, v in os.environ.items() if k not in _OPENBLAS_OVERRIDES}
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

sys.path.insert(0, str(HERE.parent / "python"))
from bigdl import _native  # noqa: E402

SQUARE = [64, 128, 256, 512, 1024, 2048]
# Linear's forward products at the MLP's layers: (batch, in) x (out, in)^T.
MLP_SHAPES = [(b, k, n) for b in (16, 128, 512) for (k, n) in ((784, 256), (256, 256), (256, 10))]


def numpy_gflops(m, k, n, trans_b, min_seconds=0.3):
    rs = np.random.RandomState(0)
    a = rs.randn(m, k).astype(np.float32)
    b = rs.randn(n, k).astype(np.float32) if trans_b else rs.randn(k, n).astype(np.float32)
    c = np.empty((m, n), np.float32)
    bb = b.T if trans_b else b
    np.matmul(a, bb, out=c)
    reps, t0, cpu0 = 0, time.perf_counter(), time.thread_time()
    while True:
        np.matmul(a, bb, out=c)
        reps += 1
        el = time.perf_counter() - t0
        if el >= min_seconds and reps >= 3:
            gflops = 2.0 * m * n * k * reps / 1e9
            return gflops / el, gflops / (time.thread_time() - cpu0)


def ours_gflops(m, k, n, trans_b, threads, min_seconds=0.3):
    res, _ = _native.call(0, "bench_gemm", {"m": m, "n": n, "k": k, "trans_b": trans_b, "threads": threads,
                                            "seconds": min_seconds})
    # On one thread the product runs on this thread (a cgo call runs Go on
    # the caller's OS thread), and bench_gemm reads that thread's CPU time
    # around the timed products alone. (The share of the whole call's time
    # spent on a CPU, set-up included, once put 2048³ above the core's peak
    # on a loaded machine.)
    return res["gflops"], res.get("cpu_gflops", float("nan"))


def gemm_section():
    info = _native.call(0, "info")[0]
    blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    print("## SGEMM (GFLOP/s)\n")
    print("ours: %s; numpy %s with %s" % (info["kernels"], np.__version__,
                                          ", ".join("%s %s (%s)" % (p.get("internal_api"), p.get("version"),
                                                                     p.get("architecture")) for p in blas)))
    print()
    # --cpu-time adds one-thread rates per second on a CPU (thread CPU time):
    # on a machine shared with other work they tell the kernels apart when
    # the wall-clock rates mostly tell the load.
    cpu = "--cpu-time" in sys.argv
    print("| shape (m×k·n) | ours 1T | numpy 1T | ratio 1T | ours 2T | numpy 2T | ratio 2T |" +
          (" ours 1T CPU | numpy 1T CPU | ratio 1T CPU |" if cpu else ""))
    print("|---|---|---|---|---|---|---|" + ("---|---|---|" if cpu else ""))
    shapes = [("%d³" % s, s, s, s, False) for s in SQUARE] + \
             [("%d×%d·%d (Linear fwd)" % (m, k, n), m, k, n, True) for (m, k, n) in MLP_SHAPES]
    for label, m, k, n, tb in shapes:
        row = [label]
        for threads in (1, 2):
            # Medians of three interleaved rounds: on a shared VM one
            # measurement of either side can be off by 10% or more.
            nps, ours = [], []
            for _ in range(3):
                with threadpool_limits(limits=threads, user_api="blas"):
                    nps.append(numpy_gflops(m, k, n, tb))
                # OpenBLAS's threads busy-wait for a while after a call; let
                # them go to sleep so they do not take a core from ours.
                time.sleep(0.3)
                ours.append(ours_gflops(m, k, n, tb, threads))
            npg, og = statistics.median(r[0] for r in nps), statistics.median(r[0] for r in ours)
            row += ["%.1f" % og, "%.1f" % npg, "%.2f" % (og / npg)]
            if threads == 1:
                npc, oc = statistics.median(r[1] for r in nps), statistics.median(r[1] for r in ours)
        if cpu:
            row += ["%.1f" % oc, "%.1f" % npc, "%.2f" % (oc / npc)]
        print("| " + " | ".join(row) + " |")
        sys.stdout.flush()
    print()


def train_once(impl, model, threads):
    env = dict(os.environ, BIGDL_CORE_NUMBER=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               PYTHONPATH=str(HERE.parent / "python"))
    p = subprocess.run([sys.executable, str(HERE / "train_one.py"), impl, model, str(threads)],
                       capture_output=True, env=env, text=True, timeout=900)
    if p.returncode != 0:
        return None, "failed: " + (p.stderr.strip().splitlines() or ["?"])[-1]
    return json.loads(p.stdout.strip().splitlines()[-1]), None


def training_section():
    # Asked in a child: importing torch here would weigh on nothing measured, but keep this process lean.
    if subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0:
        impls = ["ours", "numpy", "torch"]
    else:
        impls = ["ours", "numpy"]
        print("(torch is not importable: its column is skipped)\n")
    print("## Training throughput (records/s) and peak RSS (MB)\n")
    # --cpu-time adds, per peer, ours/peer in records per second on a CPU
    # (the process's CPU time over the timed run) for one thread.
    cpu = "--cpu-time" in sys.argv
    peers = ["numpy"] + (["torch"] if "torch" in impls else [])
    print("| model | threads | " + " | ".join("%s rec/s | %s RSS" % (i, i) for i in impls) +
          " | " + " | ".join("ours/%s" % p for p in peers) + " |" +
          "".join(" ours/%s per CPU-s |" % p for p in peers if cpu))
    print("|---" * (2 + 2 * len(impls) + len(peers) * (1 + cpu)) + "|")
    for model in ("lecture", "feedforward", "mlp"):
        for threads in (1, 2):
            results = {}
            row = [model, str(threads)]
            for impl in impls:
                res, err = train_once(impl, model, threads)
                results[impl] = res
                row += [err or "%.0f" % res["records_per_s"], "" if err else "%.0f" % res["peak_rss_mb"]]
            for key in ["records_per_s"] + (["records_per_cpu_s"] if cpu else []):
                for peer in peers:
                    if results.get("ours") and results.get(peer) and (key == "records_per_s" or threads == 1):
                        row.append("%.2f" % (results["ours"][key] / results[peer][key]))
                    else:
                        row.append("")
            print("| " + " | ".join(row) + " |")
            sys.stdout.flush()
    print()


def main():
    print("# bigdl-go benchmarks\n")
    if "--avx2" in sys.argv:
        print("AVX2 forced (--avx2): %s\n" % ", ".join("%s=%s" % kv for kv in _FORCE_AVX2.items()))
    print("machine: %s, %d CPUs, %s; Python %s\n" % (platform.processor() or platform.machine(), os.cpu_count(),
                                                     _cpu_model(), platform.python_version()))
    if "--training-only" not in sys.argv:
        gemm_section()
    if "--gemm-only" not in sys.argv:
        training_section()


def _cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
