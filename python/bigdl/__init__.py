"""bigdl-go: BigDL's Python API on a Go core.

Importing this package loads nothing native: the Go library is loaded on the
first call that needs it (see bigdl._native), so a process may fork before
using it, as PySpark's worker daemon does.
"""
__version__ = "0.1.0"
