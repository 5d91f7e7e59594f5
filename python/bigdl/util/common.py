"""BigDL's bigdl.util.common: samples, tensors, results, the random generator,
engine and Spark helpers."""
import logging
import multiprocessing
import os
import sys

import numpy as np

from bigdl import _native

INTMAX = 2147483647
INTMIN = -2147483648
DOUBLEMAX = 1.7976931348623157e308

_SUPPORTED_TYPES = ("float", "double")


def check_bigdl_type(bigdl_type):
    if bigdl_type not in _SUPPORTED_TYPES:
        raise Exception("Not supported bigdl_type: %s" % bigdl_type)


def get_dtype(bigdl_type="float"):
    """Data crossing into the engine is float32, as in late BigDL 0.x."""
    return "float"


class JavaValue(object):
    """An engine object: `.value` is its handle in the Go core.

    The name is BigDL's (its engine ran on the JVM); here the engine is Go.
    """

    def __init__(self, jvalue=None, bigdl_type="float", *args):
        check_bigdl_type(bigdl_type)
        self.bigdl_type = bigdl_type
        self._handle = jvalue

    @property
    def value(self):
        if self._handle is None:
            raise _native.FreedObjectError("%s was freed and can no longer be used" % type(self).__name__)
        return self._handle

    def _call(self, method, args=None, tensors=()):
        return _native.call(self.value, method, args, tensors)

    def _free(self):
        """Releases the engine object now rather than at garbage collection."""
        handle, self._handle = self._handle, None
        _native.free(handle)

    def __del__(self):
        try:
            self._free()
        except Exception:
            pass


def to_list(a):
    return a if isinstance(a, list) else [a]


class JTensor(object):
    """A dense tensor as a flat float32 storage and a shape."""

    def __init__(self, storage, shape, bigdl_type="float", indices=None):
        check_bigdl_type(bigdl_type)
        self.storage = np.asarray(storage, dtype=np.float32).ravel()
        self.shape = np.asarray(shape, dtype=np.int32)
        self.indices = None if indices is None else np.asarray(indices, dtype=np.int32)
        self.bigdl_type = bigdl_type

    @classmethod
    def from_ndarray(cls, a_ndarray, bigdl_type="float"):
        if a_ndarray is None:
            return None
        assert isinstance(a_ndarray, np.ndarray), "input should be a np.ndarray, not %s" % type(a_ndarray)
        arr = _native.as_float32(a_ndarray, "JTensor.from_ndarray input")
        shape = arr.shape if arr.ndim > 0 else (arr.size,)
        return cls(arr.ravel(), shape, bigdl_type)

    @classmethod
    def sparse(cls, a_ndarray, i_ndarray, shape, bigdl_type="float"):
        raise NotImplementedError("sparse tensors are not supported by bigdl-go yet")

    def to_ndarray(self):
        if self.indices is not None:
            raise ValueError("to_ndarray is not allowed for a sparse JTensor")
        return self.storage.reshape(tuple(int(d) for d in self.shape))

    def __reduce__(self):
        return JTensor, (self.storage, self.shape, self.bigdl_type, self.indices)

    def __str__(self):
        return "JTensor: storage: %s, shape: %s" % (self.storage, self.shape)

    __repr__ = __str__


def _as_features(x, what):
    if isinstance(x, JTensor):
        return x
    if x is None:
        raise ValueError("Sample.from_ndarray: %s must be an ndarray or a number, got None" % what)
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x, dtype=np.float32)
        except (TypeError, ValueError):
            raise ValueError("Sample.from_ndarray: %s must be numeric arrays (lists of equal lengths), got %r"
                             % (what, x))
    if x.dtype.kind not in "biuf":
        raise ValueError("Sample.from_ndarray: %s must be numeric, got an array of dtype %s" % (what, x.dtype))
    return JTensor.from_ndarray(x)


def _tensor_list(x):
    """BigDL reads a list of ndarrays as several tensors (a numpy scalar among them is a 0-d one,
    as in a table label [class, target]); any other list (of numbers, nested) is one array, which
    numpy refuses when ragged."""
    if (isinstance(x, list) and any(isinstance(a, (np.ndarray, JTensor)) for a in x)
            and all(isinstance(a, (np.ndarray, JTensor, np.generic)) for a in x)):
        return x
    return [x]


class Sample(object):
    """One record: a list of feature tensors and a list of label tensors.
    Features carry no batch dimension; labels for classification are 1-based."""

    def __init__(self, features, labels, bigdl_type="float"):
        check_bigdl_type(bigdl_type)
        self.features = features
        self.labels = labels
        self.bigdl_type = bigdl_type

    @classmethod
    def from_ndarray(cls, features, labels, bigdl_type="float"):
        features = [_as_features(f, "features") for f in _tensor_list(features)]
        labels = [_as_features(l, "labels") for l in _tensor_list(labels)]
        return cls(features, labels, bigdl_type)

    @classmethod
    def from_jtensor(cls, features, labels, bigdl_type="float"):
        features = features if isinstance(features, list) else [features]
        if isinstance(labels, JTensor):
            labels = [labels]
        elif not isinstance(labels, list):
            labels = [JTensor.from_ndarray(np.asarray(labels))]
        return cls(features, labels, bigdl_type)

    @property
    def feature(self):
        return self.features[0]

    @property
    def label(self):
        return self.labels[0]

    def __reduce__(self):
        return Sample, (self.features, self.labels, self.bigdl_type)

    def __str__(self):
        return "Sample: features: %s, labels: %s," % (self.features, self.labels)

    __repr__ = __str__


class EvaluatedResult(object):
    """One validation method's score: `.result`, `.total_num`, `.method`."""

    def __init__(self, result, total_num, method):
        self.result = result
        self.total_num = total_num
        self.method = method

    def __str__(self):
        return "Evaluated result: %s, total_num: %s, method: %s" % (self.result, self.total_num, self.method)

    __repr__ = __str__


class RNG(object):
    """The engine's global random generator (MT19937, as Torch7's)."""

    def __init__(self, bigdl_type="float"):
        check_bigdl_type(bigdl_type)
        self.bigdl_type = bigdl_type

    def set_seed(self, seed):
        _native.call(0, "seed", {"seed": int(seed) & 0xFFFFFFFF})

    def uniform(self, a, b, size):
        return _native.call(0, "uniform", {"a": float(a), "b": float(b), "size": [int(d) for d in size]})[1][0]


# Logging -------------------------------------------------------------------

_own_handler = None


def bigdl_logger():
    """The `bigdl` logger, at INFO, with a handler of its own while the
    application has configured none, so training progress shows by default."""
    global _own_handler
    logger = logging.getLogger("bigdl")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    configured = logging.getLogger().handlers or [h for h in logger.handlers if h is not _own_handler]
    if configured:
        if _own_handler is not None:
            logger.removeHandler(_own_handler)
            _own_handler = None
    elif _own_handler is None:
        _own_handler = logging.StreamHandler(sys.stderr)
        _own_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(_own_handler)
    return logger


def show_bigdl_info_logs(bigdl_type="float"):
    bigdl_logger().setLevel(logging.INFO)


def redire_spark_logs(bigdl_type="float", log_path=os.getcwd() + "/bigdl.log"):
    """Sends Spark's and py4j's (noisy) logs to log_path."""
    handler = logging.FileHandler(log_path)
    for name in ("py4j", "pyspark"):
        lg = logging.getLogger(name)
        lg.addHandler(handler)
        lg.propagate = False
    try:
        from pyspark import SparkContext
        sc = SparkContext._active_spark_context
        if sc is not None:
            sc.setLogLevel("ERROR")
    except ImportError:
        pass


# Engine and Spark ------------------------------------------------------------

_engine = {"nodes": 1, "cores": None}


def _core_number():
    env = os.environ.get("BIGDL_CORE_NUMBER")
    if env:
        try:
            n = int(env)
            if n > 0:
                return n
        except ValueError:
            pass
        raise ValueError("BIGDL_CORE_NUMBER must be a positive integer, got %r" % env)
    return multiprocessing.cpu_count()


def init_engine(bigdl_type="float"):
    """Initialises the engine from the active Spark context, if any. With no
    Spark context, bigdl-go runs locally on this machine's cores."""
    check_bigdl_type(bigdl_type)
    nodes, cores = 1, _core_number()
    try:
        from pyspark import SparkContext
        sc = SparkContext._active_spark_context
    except ImportError:
        sc = None
    if sc is not None and not os.environ.get("BIGDL_CORE_NUMBER"):
        conf = sc.getConf()
        master = sc.master or ""
        if master.startswith("local"):
            spec = master[len("local"):].strip("[]") or "1"
            cores = multiprocessing.cpu_count() if spec.split(",")[0] == "*" else int(spec.split(",")[0])
        else:
            cores = int(conf.get("spark.executor.cores", str(cores)))
            nodes = int(conf.get("spark.executor.instances", "1"))
    _engine.update(nodes=nodes, cores=cores)


def get_node_and_core_number(bigdl_type="float"):
    if _engine["cores"] is None:
        init_engine(bigdl_type)
    return _engine["nodes"], _engine["cores"]


def get_bigdl_engine_type(bigdl_type="float"):
    return "MklBlas"


_optimizer_version = ["optimizerV1"]


def set_optimizer_version(optimizerVersion, bigdl_type="float"):
    _optimizer_version[0] = optimizerVersion


def get_optimizer_version(bigdl_type="float"):
    return _optimizer_version[0]


def create_spark_conf():
    """A SparkConf for bigdl-go. It points spark.pyspark.python at this
    interpreter (unless set), so Spark's Python workers import the same
    bigdl-go and numpy as the driver."""
    from pyspark import SparkConf
    conf = SparkConf()
    if not conf.contains("spark.pyspark.python"):
        conf.set("spark.pyspark.python", sys.executable)
    # PySpark's driver picks the workers' interpreter from PYSPARK_PYTHON.
    os.environ.setdefault("PYSPARK_PYTHON", conf.get("spark.pyspark.python"))
    # Spark's console bar (stage counts, on the JVM's stderr) would draw over the line of
    # optimize()'s bar; where that bar may show, Spark's is off unless the application set it.
    from bigdl.optim._progress import bar_possible
    if not conf.contains("spark.ui.showConsoleProgress") and bar_possible():
        conf.set("spark.ui.showConsoleProgress", "false")
    return conf


def get_spark_context(conf=None):
    from pyspark import SparkContext
    return SparkContext.getOrCreate(conf or create_spark_conf())


def get_spark_sql_context(sc):
    from pyspark.sql import SQLContext
    return SQLContext.getOrCreate(sc)


def to_sample_rdd(x, y, numSlices=None):
    """Two ndarrays (first dimension the record) as an RDD of Sample."""
    sc = get_spark_context()
    from bigdl.util.common import Sample as _Sample
    x_rdd = sc.parallelize(list(x), numSlices)
    y_rdd = sc.parallelize(list(y), numSlices)
    return x_rdd.zip(y_rdd).map(lambda item: _Sample.from_ndarray(item[0], item[1]))


def callBigDlFunc(bigdl_type, name, *args):
    raise NotImplementedError("callBigDlFunc is BigDL's bridge to its JVM engine; bigdl-go has no JVM. "
                              "Use the Python classes instead.")


def is_spark_rdd(data):
    """Whether data is a PySpark RDD, checked without importing pyspark."""
    return any(c.__module__.startswith("pyspark") and c.__name__ == "RDD" for c in type(data).__mro__)
