"""The bridge to libbigdl, the Go core: loading it on first use, calling it,
and turning its errors into Python exceptions.

The C ABI (capi/bigdl.h) has five functions. Objects are created by BigDL
class name with JSON arguments; methods are called by name with JSON
arguments and float32 arrays; results come back as JSON and arrays.
"""
import ctypes
import json
import logging
import os
import threading

import numpy as np

_OK, _VALUE, _INTERNAL, _IO, _HANDLE, _CANCELLED, _MEMORY = range(7)

_lib = None
_lib_pid = None
_lock = threading.Lock()


class BigDLError(RuntimeError):
    """An error reported by the Go core that is not the caller's input."""


class FreedObjectError(ValueError):
    """The object was freed and can no longer be used."""


def _library_path():
    override = os.environ.get("BIGDL_GO_LIBRARY")
    if override:
        return override
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_lib", "libbigdl.so")


def lib():
    """The loaded library, loading it on first use in this process."""
    global _lib, _lib_pid
    if _lib is not None and _lib_pid == os.getpid():
        return _lib
    with _lock:
        if _lib is not None and _lib_pid == os.getpid():
            return _lib
        if _lib is not None:
            # The Go runtime does not survive fork(): a child that inherited a
            # loaded library cannot use it.
            raise BigDLError(
                "bigdl-go was loaded before this process forked; the Go runtime does not survive a fork. "
                "Use bigdl only in the child, or start children with the 'spawn' method.")
        path = _library_path()
        if not os.path.exists(path):
            raise ImportError(
                "the bigdl-go native library is missing at %s: build it with `make build` (checkout) "
                "or install the bigdl-go wheel" % path)
        handle = ctypes.CDLL(path)
        c_handle = ctypes.c_uint64
        handle.bigdl_new.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(c_handle), ctypes.POINTER(ctypes.c_void_p)]
        handle.bigdl_new.restype = ctypes.c_int
        handle.bigdl_call.argtypes = [c_handle, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int,
                                      ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int),
                                      ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_void_p),
                                      ctypes.POINTER(c_handle), ctypes.POINTER(ctypes.c_void_p)]
        handle.bigdl_call.restype = ctypes.c_int
        handle.bigdl_tensors_read.argtypes = [c_handle, ctypes.c_int, ctypes.c_void_p, ctypes.c_int64,
                                              ctypes.POINTER(ctypes.c_void_p)]
        handle.bigdl_tensors_read.restype = ctypes.c_int
        handle.bigdl_free.argtypes = [c_handle]
        handle.bigdl_free.restype = None
        handle.bigdl_free_string.argtypes = [ctypes.c_void_p]
        handle.bigdl_free_string.restype = None
        _lib, _lib_pid = handle, os.getpid()
        _warn_if_kernels_refused()
        return _lib


def _warn_if_kernels_refused():
    """Says once per process, through the `bigdl` logger, that BIGDL_KERNELS named a kernel set this
    build or CPU cannot run, so a forced set that fell back to another does not go unnoticed."""
    refused = call(0, "info")[0].get("kernels_refused")
    if refused:
        logging.getLogger("bigdl").warning("%s", refused)


def is_loaded():
    """Whether this process has loaded the library (tests check import stays lazy)."""
    return _lib is not None and _lib_pid == os.getpid()


def _take_string(ptr):
    """Reads and frees a string the library returned."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8", "replace")
    finally:
        lib().bigdl_free_string(ptr)


def _raise(status, err_ptr):
    message = _take_string(err_ptr.value) or "unknown error (status %d)" % status
    raise error_for(status, message)


def error_for(status, message):
    """The Python exception for a status code of capi/bigdl.h."""
    if status == _VALUE:
        return ValueError(message)
    if status == _IO:
        return OSError(message)
    if status == _HANDLE:
        return FreedObjectError(message)
    if status == _CANCELLED:
        return KeyboardInterrupt(message)
    if status == _MEMORY:
        return MemoryError(message)
    return BigDLError(message)


def _plain(v):
    """numpy scalars and arrays as the Python values JSON knows."""
    if isinstance(v, (np.integer, np.floating, np.bool_, np.ndarray)):
        return v.tolist()
    raise TypeError("%r (a %s) is not a number, string, boolean or list" % (v, type(v).__name__))


def _encode(args):
    return json.dumps(args if args is not None else {}, allow_nan=False, default=_plain).encode("utf-8")


def new(class_name, args=None):
    """Creates a Go object by BigDL class name; returns its handle."""
    out = ctypes.c_uint64()
    err = ctypes.c_void_p()
    try:
        payload = _encode(args)
    except (TypeError, ValueError) as e:
        raise ValueError("%s: arguments must be numbers, strings, booleans or lists of them: %s" % (class_name, e))
    status = lib().bigdl_new(class_name.encode("utf-8"), payload, ctypes.byref(out), ctypes.byref(err))
    if status != _OK:
        _raise(status, err)
    return out.value


def as_float32(a, what="array"):
    """a as a C-contiguous float32 ndarray, or a ValueError naming what it is."""
    try:
        arr = np.ascontiguousarray(a, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError("%s must be numeric, got %r (%s)" % (what, type(a).__name__, e))
    return arr


def _flatten(x, leaves):
    """The nesting of x (a list nests a table), appending its arrays to leaves."""
    if isinstance(x, (list, tuple)):
        return [_flatten(e, leaves) for e in x]
    leaves.append(x)
    return len(leaves) - 1


def _nest(nesting, leaves):
    if isinstance(nesting, list):
        return [_nest(n, leaves) for n in nesting]
    return leaves[nesting]


def call(handle, method, args=None, tensors=()):
    """Calls a method on a Go object (handle 0: the library itself).

    A tensor argument may be a (nested) list of arrays, a table: all cross
    in this one call, as a flat list of arrays plus the nesting.
    Returns (result, arrays): the JSON result and the outputs, tables as lists.
    """
    if handle is None:
        raise FreedObjectError("%s: this object was freed and can no longer be used" % method)
    if any(isinstance(t, (list, tuple)) for t in tensors):
        leaves = []
        args = dict(args or {}, tables=[_flatten(t, leaves) for t in tensors])
        tensors = leaves
    arrays = [as_float32(t, "input %d of %s" % (i + 1, method)) for i, t in enumerate(tensors)]
    n = len(arrays)
    data = (ctypes.c_void_p * max(n, 1))(*[a.ctypes.data for a in arrays])
    ndims = (ctypes.c_int * max(n, 1))(*[a.ndim for a in arrays])
    dims = [d for a in arrays for d in a.shape]
    shapes = (ctypes.c_int64 * max(len(dims), 1))(*dims)
    json_out = ctypes.c_void_p()
    tensors_out = ctypes.c_uint64()
    err = ctypes.c_void_p()
    status = lib().bigdl_call(handle, method.encode("utf-8"), _encode(args), n, data, ndims, shapes,
                              ctypes.byref(json_out), ctypes.byref(tensors_out), ctypes.byref(err))
    if status != _OK:
        _raise(status, err)
    out = json.loads(_take_string(json_out.value) or "{}")
    result, outs = out.get("result"), []
    if "shapes" in out:
        try:
            # All output tensors (a table's leaves) come out in one read, as views of one buffer.
            sizes = [int(np.prod(shape, dtype=np.int64)) for shape in out["shapes"]]
            buf = np.empty(sum(sizes), dtype=np.float32)
            st = lib().bigdl_tensors_read(tensors_out.value, -1, buf.ctypes.data, buf.size, ctypes.byref(err))
            if st != _OK:
                _raise(st, err)
            off = 0
            for shape, size in zip(out["shapes"], sizes):
                outs.append(buf[off:off + size].reshape(shape))
                off += size
        finally:
            lib().bigdl_free(tensors_out.value)
    if "tables" in out:
        outs = [_nest(n, outs) for n in out["tables"]]
    return result, outs


def free(handle):
    """Releases a handle; safe at interpreter exit and after a fork."""
    if handle and is_loaded():
        try:
            _lib.bigdl_free(handle)
        except Exception:
            pass
