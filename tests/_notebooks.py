"""Runs the notebooks of examples/ in a real Jupyter kernel (ipykernel, driven by nbclient), for
tests/test_notebooks.py and for `make figures`.

The kernel is this interpreter (sys.executable, so the venv's ipykernel) under a kernel spec of
our own, written to a temporary directory and found only by the kernel manager we hand nbclient:
a `python3` spec elsewhere on the machine (a user's, another venv's) cannot be picked up instead.
The kernel imports this checkout's python/ package (and so its built library) through
PYTHONPATH, and starts in examples/, where the notebooks import their data helpers.

    python tests/_notebooks.py --figure docs/training_curves.png examples/training.ipynb

executes a notebook and writes the PNG its cell tagged `figure` displayed (the README's picture).
"""
import base64
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
KERNEL_NAME = "bigdl-go-checkout"


def kernel_env(**extra):
    """The kernel's environment: this checkout's python/ first on the path, no inherited
    PYTHONHOME or LECTURE_SPARK, nothing the progress bar reads, and Spark on loopback."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "LECTURE_SPARK", "BIGDL_PROGRESS")}
    env["PYTHONPATH"] = str(REPO / "python")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def kernel_manager(spec_root):
    """A kernel manager that knows only our kernel spec, written under spec_root, where the
    kernel's connection file goes too (not into the user's Jupyter runtime directory)."""
    spec_dir = Path(spec_root) / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bigdl-go (this checkout)", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(spec_root)], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs,
                         connection_file=str(Path(spec_root) / "connection.json"))


def execute(path, timeout=600, **env):
    """Executes the notebook at path in a fresh kernel and returns it with its outputs; a cell
    that raises fails with nbclient's CellExecutionError, naming the cell and the error."""
    nb = nbformat.read(str(path), as_version=4)
    with tempfile.TemporaryDirectory(prefix="bigdl-kernels-") as root:
        km = kernel_manager(root)
        client = NotebookClient(nb, km=km, timeout=timeout, startup_timeout=120,
                                resources={"metadata": {"path": str(EXAMPLES)}})
        try:
            client.execute(env=kernel_env(**env), cwd=str(EXAMPLES))
        finally:
            if km.has_kernel:  # nbclient shuts down only the kernels of managers it made
                km.shutdown_kernel(now=True)
    return nb


def tagged_png(nb, tag):
    """The PNG bytes the cell tagged `tag` displayed."""
    for cell in nb.cells:
        if tag in cell.get("metadata", {}).get("tags", []):
            for out in cell.get("outputs", []):
                png = out.get("data", {}).get("image/png")
                if png:
                    return base64.b64decode(png)
            raise ValueError("the cell tagged %r displayed no PNG" % tag)
    raise ValueError("no cell is tagged %r" % tag)


def main(argv):
    if len(argv) != 3 or argv[0] != "--figure":
        sys.exit("usage: python tests/_notebooks.py --figure OUT.png NOTEBOOK.ipynb")
    out, notebook = Path(argv[1]), Path(argv[2])
    png = tagged_png(execute(notebook), "figure")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    print("wrote %s (%d bytes) from %s" % (out, len(png), notebook))


if __name__ == "__main__":
    main(sys.argv[1:])
