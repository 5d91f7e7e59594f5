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


def features_and_labels(data, what, need_labels=True):
    """(X, Y) float32 arrays from a data set; Y is None when need_labels is
    False and the data carries no labels."""
    if is_spark_rdd(data):
        data = _collect(data, what)
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray):
        x = _native.as_float32(data[0], "%s features" % what)
        y = _native.as_float32(data[1], "%s labels" % what)
        if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0]:
            raise ValueError("%s: features and labels must have the same number of records (first dimension), "
                             "got shapes %s and %s" % (what, x.shape, y.shape))
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
    feats, labels = [], []
    for i, s in enumerate(records):
        if not isinstance(s, Sample):
            raise ValueError("%s: record %d is a %s, expected a Sample (Sample.from_ndarray(features, label))"
                             % (what, i + 1, type(s).__name__))
        if len(s.features) != 1:
            raise ValueError("%s: record %d has %d feature tensors; models with several inputs are not supported yet"
                             % (what, i + 1, len(s.features)))
        if len(s.labels) > 1:
            raise ValueError("%s: record %d has %d label tensors; several labels per record are not supported yet"
                             % (what, i + 1, len(s.labels)))
        feats.append(_ndarray(s.features[0]))
        if s.labels:
            labels.append(_ndarray(s.labels[0]))
        elif need_labels:
            raise ValueError("%s: record %d has no label" % (what, i + 1))
    x = _stack(feats, what, "features")
    y = _stack(labels, what, "a label") if labels and len(labels) == len(feats) else None
    return x, y
