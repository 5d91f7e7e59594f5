"""Turns the data sets users pass (lists of Sample, (features, labels) pairs,
Spark RDDs) into the contiguous float32 arrays the Go core takes once."""
import logging

import numpy as np

from bigdl import _native
from bigdl.util.common import JTensor, Sample, is_spark_rdd

log = logging.getLogger("bigdl")


def _collect(rdd, what):
    # Reached only when an RDD meets a local computation (say val_rdd with a
    # training set that is a list); RDD training itself runs on the executors.
    log.info("%s is a Spark RDD used in a local computation: collecting it to the driver", what)
    return rdd.collect()


def _ndarray(t):
    return t.to_ndarray() if isinstance(t, JTensor) else np.asarray(t)


def _stack(arrays, what, kind):
    """Stacks per-record arrays, refusing records whose shapes differ."""
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise ValueError("%s: record %d has %s of shape %s, but record 1 has shape %s; "
                             "all records must have the same shape" % (what, i + 1, kind, a.shape, first))
    return np.ascontiguousarray(np.stack(arrays), dtype=np.float32)


def _is_arrays(a):
    """An ndarray, or a non-empty list or tuple of them (a table: several tensors per record)."""
    return isinstance(a, np.ndarray) or (isinstance(a, (list, tuple)) and len(a) > 0
                                         and all(isinstance(e, np.ndarray) for e in a))


def _table(a, what):
    """a as float32: one array, or a list of them for a table."""
    if isinstance(a, np.ndarray):
        return _native.as_float32(a, what)
    return [_native.as_float32(e, "%s %d" % (what, i + 1)) for i, e in enumerate(a)]


def _records(a):
    """The record count of each array of a (first dimensions)."""
    return [e.shape[0] if e.ndim else None for e in (a if isinstance(a, list) else [a])]


def features_and_labels(data, what, need_labels=True):
    """(X, Y) float32 arrays from a data set; Y is None when need_labels is
    False and the data carries no labels. Records with several feature (or
    label) tensors give a list of arrays, one per tensor: a table."""
    if is_spark_rdd(data):
        data = _collect(data, what)
    if isinstance(data, tuple) and len(data) == 2 and _is_arrays(data[0]) and _is_arrays(data[1]):
        x = _table(data[0], "%s features" % what)
        y = _table(data[1], "%s labels" % what)
        counts = _records(x) + _records(y)
        if None in counts or len(set(counts)) != 1:
            raise ValueError("%s: features and labels must have the same number of records (first dimension), "
                             "got shapes %s and %s" % (what, _shapes(x), _shapes(y)))
        return x, y
    if isinstance(data, np.ndarray):
        if need_labels:
            raise ValueError("%s: expected a list of Sample or a (features, labels) pair, got an ndarray without labels" % what)
        return _native.as_float32(data, what), None
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise ValueError("%s: expected a list of Sample, a (features, labels) pair of ndarrays or a Spark RDD, got %s"
                         % (what, type(data).__name__))
    records = list(data)
    if not records:
        raise ValueError("%s is empty: it needs at least one record" % what)
    feats, labels = None, None
    for i, s in enumerate(records):
        if not isinstance(s, Sample):
            raise ValueError("%s: record %d is a %s, expected a Sample (Sample.from_ndarray(features, label))"
                             % (what, i + 1, type(s).__name__))
        if feats is None:
            feats, labels = [[] for _ in s.features], [[] for _ in s.labels]
        if len(s.features) != len(feats) or len(s.labels) != len(labels) and (need_labels or s.labels):
            raise ValueError("%s: record %d has %d feature and %d label tensors, but record 1 has %d and %d; "
                             "every record must have the same" % (what, i + 1, len(s.features), len(s.labels),
                                                                  len(feats), len(labels)))
        for k, f in enumerate(s.features):
            feats[k].append(_ndarray(f))
        for k, lab in enumerate(s.labels[:len(labels)]):
            labels[k].append(_ndarray(lab))
    if not feats:
        raise ValueError("%s: record 1 has no feature tensor" % what)
    if need_labels and not labels:
        raise ValueError("%s: record 1 has no label" % what)
    x = [_stack(f, what, "features" if len(feats) == 1 else "feature tensor %d" % (k + 1)) for k, f in enumerate(feats)]
    y = [_stack(lab, what, "a label" if len(labels) == 1 else "label tensor %d" % (k + 1)) for k, lab in enumerate(labels)]
    return (x[0] if len(x) == 1 else x), (None if not y else y[0] if len(y) == 1 else y)


def _shapes(a):
    return [e.shape for e in a] if isinstance(a, list) else a.shape
