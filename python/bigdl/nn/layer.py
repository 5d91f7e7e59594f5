"""BigDL's bigdl.nn.layer: layers and containers.

Each layer class is its BigDL signature and one call into the Go core; the
shared behaviour (forward, backward, weights, modes, prediction, evaluation,
saving) lives in Layer.
"""
import os

import numpy as np

from bigdl import _native
from bigdl._arrays import features_and_labels
from bigdl.util.common import (INTMIN, EvaluatedResult, JavaValue, JTensor, RNG, callBigDlFunc,
                               is_spark_rdd, to_list)

# Python classes by BigDL class name, to wrap models loaded from files.
_classes = {}


def _as_array(x, what):
    """x as a float32 ndarray, or for a table (a list or tuple) a list of them."""
    if isinstance(x, JTensor):
        return x.to_ndarray()
    if isinstance(x, (list, tuple)):
        return [_as_array(e, "%s[%d]" % (what, i)) for i, e in enumerate(x)]
    return _native.as_float32(x, what)


def _output(x):
    """BigDL's convention for results: a table of one tensor comes back as that tensor."""
    if isinstance(x, list) and len(x) == 1 and not isinstance(x[0], list):
        return x[0]
    return x


def _not_yet(what):
    raise NotImplementedError("%s is not supported by bigdl-go yet" % what)


class Layer(JavaValue):
    """The base of every layer: BigDL's Layer API over a Go module."""

    def __init__(self, jvalue=None, bigdl_type="float", **config):
        JavaValue.__init__(self, None, bigdl_type)
        self._handle = jvalue if jvalue is not None else _native.new(self._class_name(), config)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        _classes[cls.__name__] = cls

    @classmethod
    def _class_name(cls):
        return cls.__name__

    @staticmethod
    def of(handle, bigdl_type="float"):
        """Wraps a Go module handle in the Python class of its BigDL class."""
        desc, _ = _native.call(handle, "describe")
        cls = _classes.get(desc["class"], Layer)
        obj = cls.__new__(cls)
        JavaValue.__init__(obj, handle, bigdl_type)
        return obj

    from_jvalue = of

    def __str__(self):
        return self._call("string")[0]

    __repr__ = __str__

    # Computation

    def forward(self, input):
        """Output for input (no batch dim, or a leading batch dim), in the current mode.
        A table (several tensors) is a list of ndarrays, in and out."""
        return _output(self._call("forward", tensors=[_as_array(input, "forward input")])[1][0])

    def backward(self, input, grad_output):
        """Gradient w.r.t. input; accumulates parameter gradients. Call forward(input) first."""
        return _output(self._call("backward", tensors=[_as_array(input, "backward input"),
                                                       _as_array(grad_output, "backward grad_output")])[1][0])

    def zero_grad_parameters(self):
        self._call("zero_grad_parameters")

    def update_parameters(self, learning_rate):
        self._call("update_parameters", {"learning_rate": float(learning_rate)})

    def reset(self):
        self._call("reset")
        return self

    def set_init_method(self, weight_init_method=None, bias_init_method=None):
        """Sets how reset() draws the weight and the bias (None keeps the
        current method), redraws them now, and returns self."""
        from bigdl.nn.initialization_method import init_spec
        self._call("set_init_method", {"weight": init_spec(weight_init_method, "weight_init_method"),
                                       "bias": init_spec(bias_init_method, "bias_init_method")})
        return self

    # Parameters

    def parameters(self):
        """{layer name: {"weight", "bias", "gradWeight", "gradBias"}} as ndarrays."""
        entries, arrays = self._call("parameters")
        out, i = {}, 0
        for e in entries:
            d = {}
            for p in e["params"]:
                d[p] = arrays[i]
                d["grad" + p[0].upper() + p[1:]] = arrays[i + 1]
                i += 2
            out[e["layer"]] = d
        return out

    def get_weights(self):
        """[weight, bias, ...] of every parameterised layer in order, or None."""
        weights = self._call("get_weights")[1]
        if not weights:
            print("The layer does not have weight/bias")
            return None
        return weights

    def set_weights(self, weights):
        """Replaces the weights; count and shapes must match get_weights()."""
        arrays = [_native.as_float32(w, "set_weights: weight %d" % (i + 1)) for i, w in enumerate(to_list(weights))]
        self._call("set_weights", tensors=arrays)

    def set_running_mean(self, running_mean):
        """BatchNormalization's running mean, an ndarray of shape (n_output,); returns self."""
        self._call("set_running_mean", tensors=[_native.as_float32(running_mean, "set_running_mean: running_mean")])
        return self

    def set_running_std(self, running_std):
        """BatchNormalization's running variance (BigDL's setRunningStd sets runningVar), an
        ndarray of shape (n_output,); returns self."""
        self._call("set_running_std", tensors=[_native.as_float32(running_std, "set_running_std: running_std")])
        return self

    def is_with_weights(self):
        return len(self._call("get_weights")[1]) > 0

    # Identity and mode

    def name(self):
        return self._call("name")[0]

    def set_name(self, name):
        self._call("set_name", {"name": str(name)})
        return self

    def set_seed(self, seed=123):
        RNG().set_seed(seed)
        return self

    def training(self, is_training=True):
        self._call("training", {"on": bool(is_training)})
        return self

    def is_training(self):
        return self._call("is_training")[0]

    def freeze(self, names=None):
        self._call("freeze", {"names": None if names is None else [str(n) for n in to_list(names)]})
        return self

    def unfreeze(self, names=None):
        self._call("unfreeze", {"names": None if names is None else [str(n) for n in to_list(names)]})
        return self

    def evaluate(self, *args):
        """evaluate(): evaluation mode, returns self.
        evaluate(dataset, batch_size, val_methods): a list of EvaluatedResult."""
        if len(args) == 0:
            self._call("training", {"on": False})
            return self
        if len(args) != 3:
            raise Exception("Error when calling evaluate(): it takes no arguments, or exactly three "
                            "(dataset, batch_size, val_methods), got %d" % len(args))
        from bigdl.optim.optimizer import _val_method_specs
        dataset, batch_size, val_methods = args
        _check_batch_size(batch_size)
        specs = _val_method_specs(val_methods, "val_methods")
        if is_spark_rdd(dataset):
            from bigdl import _spark
            results = _spark.evaluate(self, dataset, int(batch_size), specs)
        else:
            x, y = features_and_labels(dataset, "evaluate dataset")
            results, _ = self._call("evaluate", {"batch_size": int(batch_size), "methods": specs}, [x, y])
        return [EvaluatedResult(float(r["result"]), int(r["total_num"]), r["method"]) for r in results]

    # Prediction

    def predict(self, features, batch_size=-1):
        """Outputs for features: an ndarray (first dim the record), a list of
        Sample, or an RDD of Sample (gives an RDD of ndarrays)."""
        if is_spark_rdd(features):
            return self.predict_distributed(features, batch_size)
        return self.predict_local(features, batch_size)

    def predict_local(self, X, batch_size=-1):
        _check_batch_size(batch_size, allow_default=True)
        x = _predict_features(X)
        return self._call("predict", {"batch_size": int(batch_size)}, [x])[1][0]

    def predict_distributed(self, data_rdd, batch_size=-1):
        """An RDD of output ndarrays, computed on the executors (the model is
        broadcast once)."""
        _check_batch_size(batch_size, allow_default=True)
        from bigdl import _spark
        return _spark.predict(self, data_rdd, batch_size)

    def predict_class(self, features):
        """1-based class of the highest output for each record."""
        if is_spark_rdd(features):
            return self.predict_class_distributed(features)
        return self.predict_class_local(features)

    def predict_class_local(self, X):
        x = _predict_features(X)
        classes = self._call("predict_class", {"batch_size": -1}, [x])[1][0]
        return classes.astype(np.int64)

    def predict_class_distributed(self, data_rdd):
        """An RDD of 1-based classes, computed on the executors."""
        from bigdl import _spark
        return _spark.predict(self, data_rdd, -1, classes=True)

    # Files

    def save(self, path, over_write=False):
        """Saves the model (definition and weights) to path in bigdl-go's format."""
        self._call("save", {"path": str(path), "over_write": bool(over_write)})

    def saveModel(self, modelPath, weightPath=None, over_write=False):
        """Saves the model in bigdl-go's format: definition and weights in modelPath, or with
        weightPath the definition in modelPath and the weights in weightPath (BigDL's layout).
        Without over_write an existing file raises and nothing is written."""
        args = {"path": _path_arg(modelPath, "modelPath"), "over_write": bool(over_write)}
        if weightPath is not None:
            args["weight_path"] = _path_arg(weightPath, "weightPath")
        self._call("save", args)

    @staticmethod
    def load(path, bigdl_type="float"):
        """Loads a model written by save()."""
        handle, _ = _native.call(0, "load", {"path": str(path)})
        return Layer.of(handle, bigdl_type)

    def setWRegularizer(self, wRegularizer):
        """Regularizes the layer's weights (None removes it)."""
        self._regularize("w", wRegularizer, "wRegularizer")

    def setBRegularizer(self, bRegularizer):
        """Regularizes the layer's biases (None removes it)."""
        self._regularize("b", bRegularizer, "bRegularizer")

    def setURegularizer(self, uRegularizer):
        """Regularizes the layer's recurrent weights (None removes it)."""
        self._regularize("u", uRegularizer, "uRegularizer")

    def _regularize(self, kind, reg, what):
        from bigdl.optim._regularizers import regularizer_spec
        self._call("set_regularizer", {"kind": kind, "reg": regularizer_spec(reg, what)})

    def _set_regularizers(self, wRegularizer=None, bRegularizer=None, uRegularizer=None):
        """The constructor arguments of a layer that takes regularizers."""
        for kind, reg, what in (("w", wRegularizer, "wRegularizer"), ("b", bRegularizer, "bRegularizer"),
                                ("u", uRegularizer, "uRegularizer")):
            if reg is not None:
                self._regularize(kind, reg, what)


def _path_arg(path, what):
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise ValueError("%s must be a file or directory path, got %r" % (what, path))
    return os.fspath(path)


def _check_batch_size(batch_size, allow_default=False):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError("batch_size must be a positive integer, got %r" % (batch_size,))
    if batch_size <= 0 and not (allow_default and batch_size == -1):
        raise ValueError("batch_size must be a positive integer, got %d" % batch_size)


def _predict_features(X):
    if isinstance(X, np.ndarray):
        return _native.as_float32(X, "predict features")
    if isinstance(X, JTensor):
        return X.to_ndarray()
    X = list(X)
    if X and all(isinstance(a, (np.ndarray, JTensor)) for a in X):
        # A list of ndarrays is the inputs of a multi-input model (a table), as in BigDL.
        arrays = [_as_array(a, "predict features %d" % (i + 1)) for i, a in enumerate(X)]
        return arrays[0] if len(arrays) == 1 else arrays
    x, _ = features_and_labels(X, "predict features", need_labels=False)
    return x


class Container(Layer):
    """A layer made of layers."""

    def add(self, model):
        """Appends model; returns self, so calls chain."""
        if not isinstance(model, Layer):
            raise ValueError("add: expected a Layer, got %s" % type(model).__name__)
        self._call("add", {"child": model.value})
        return self

    @property
    def layers(self):
        handles, _ = self._call("children")
        return [Layer.of(h, self.bigdl_type) for h in handles]

    def flattened_layers(self, include_container=False):
        out = []
        for layer in self.layers:
            if isinstance(layer, Container):
                if include_container:
                    out.append(layer)
                out.extend(layer.flattened_layers(include_container))
            else:
                out.append(layer)
        return out


class Sequential(Container):
    """Feeds each child's output to the next.

    >>> seq = Sequential().add(Linear(5, 2)).add(LogSoftMax())
    """

    def __init__(self, jvalue=None, bigdl_type="float"):
        super().__init__(jvalue, bigdl_type)


class Node(object):
    """A node of a graph: a layer and the nodes whose outputs it reads (in order).
    layer(node) or layer([node1, node2]) makes one; Input() makes an input node."""

    def __init__(self, element, prev=()):
        self._element = element
        self._prev = list(prev)
        self._next = []
        for p in self._prev:
            p._next.append(self)

    def element(self):
        """The node's layer."""
        return self._element

    def remove_pre_edges(self):
        """Disconnects this node from the nodes it reads."""
        for p in self._prev:
            p._next = [n for n in p._next if n is not self]
        self._prev = []

    def remove_next_edges(self):
        """Disconnects the nodes that read this node from it."""
        for n in self._next:
            n._prev = [p for p in n._prev if p is not self]
        self._next = []

    def __repr__(self):
        return "Node(%s)" % self._element.name()


class _InputLayer(Layer):
    """The layer of an input node: passes its input through."""

    @classmethod
    def _class_name(cls):
        return "Input"


class Input(Node):
    """An input node of a graph Model (a Node, not a Layer)."""

    def __init__(self, name=None, bigdl_type="float"):
        layer = _InputLayer(None, bigdl_type)
        if name is not None:
            layer.set_name(name)
        super().__init__(layer)


def _call_layer(self, x=None):
    """layer(node) / layer([node1, node2]): a new Node running this layer on those nodes'
    outputs (a table when several); layer() makes a node that reads the graph's input."""
    prev = [] if x is None else to_list(x)
    for i, p in enumerate(prev):
        if not isinstance(p, Node):
            raise ValueError("%s: a layer is called on a Node or a list of Nodes (from Input() or another "
                             "layer's call), got %s at position %d" % (self.name(), type(p).__name__, i + 1))
    return Node(self, prev)


Layer.__call__ = _call_layer


def _graph_nodes(nodes, what):
    nodes = to_list(nodes)
    if not nodes:
        raise ValueError("Model: %s must be a Node or a non-empty list of Nodes" % what)
    for i, n in enumerate(nodes):
        if not isinstance(n, Node):
            raise ValueError("Model: %s must be Nodes (from Input() or calling a layer on a node), "
                             "got %s at position %d" % (what, type(n).__name__, i + 1))
    return nodes


class Model(Container):
    """BigDL's graph model: Model(inputs, outputs) with nodes made by Input() and by
    calling layers on nodes. With several inputs, forward takes a list in input order;
    with several outputs it returns a list. Model(preprocessor, trainable) runs the
    trainable layer on the preprocessor's output, which gets no gradient."""

    def __init__(self, inputs, outputs, jvalue=None, bigdl_type="float", byte_order="little_endian",
                 model_type="bigdl"):
        if jvalue is not None:
            Layer.__init__(self, jvalue, bigdl_type)
            return
        if model_type != "bigdl":
            _not_yet("Model model_type=%r (only BigDL graphs)" % (model_type,))
        if isinstance(inputs, Layer) and isinstance(outputs, Layer):
            start = Input()
            stop = Identity()(inputs(start))
            Model.__init__(self, start, outputs(stop), bigdl_type=bigdl_type)
            self.stop_gradient([stop.element().name()])
            return
        ins, outs = _graph_nodes(inputs, "inputs"), _graph_nodes(outputs, "outputs")
        order, index = [], {}
        input_ids = set(id(n) for n in ins)

        def visit(n):
            # Depth first from the outputs: each node after its predecessors.
            if id(n) in index:
                return
            index[id(n)] = None
            if id(n) not in input_ids:
                for p in n._prev:
                    visit(p)
            index[id(n)] = len(order)
            order.append(n)
        for o in outs:
            visit(o)
        for n in order:
            if not n._prev and id(n) not in input_ids:
                raise ValueError("Model: the outputs cannot be reached from the inputs: node %s (%s) has no "
                                 "predecessor and is not an input" % (n.element().name(), n.element()._class_name()))
        for n in ins:
            if id(n) not in index:
                raise ValueError("Model: input node %s (%s) has no path to an output"
                                 % (n.element().name(), n.element()._class_name()))
        prev = [[] if id(n) in input_ids else [index[id(p)] for p in n._prev] for n in order]
        Layer.__init__(self, _native.new("Model", {
            "layers": [n.element().value for n in order], "prev": prev,
            "inputs": [index[id(n)] for n in ins], "outputs": [index[id(n)] for n in outs]}), bigdl_type)

    def _nodes(self):
        """Node objects for this graph's nodes, wired as the graph is (also for a loaded Model)."""
        g, _ = self._call("graph")
        nodes = []
        for h, prev in zip(g["nodes"], g["prev"]):
            nodes.append(Node(Layer.of(h, self.bigdl_type), [nodes[p] for p in prev]))
        return nodes

    def node(self, name):
        """The node whose layer is named name."""
        for n in self._nodes():
            if n.element().name() == name:
                return n
        raise ValueError("Model.node: no node named %r in %s" % (name, self.name()))

    def stop_gradient(self, stop_layers):
        """The named layers pass no gradient to their predecessors; returns self."""
        self._call("stop_gradient", {"names": [str(n) for n in to_list(stop_layers)]})
        return self

    def set_input_formats(self, input_formats):
        """Accepted for BigDL's API: these name MKL-DNN memory layouts, and bigdl-go has one
        (contiguous row-major); returns self."""
        _check_formats(input_formats, "set_input_formats")
        return self

    def set_output_formats(self, output_formats):
        """As set_input_formats; returns self."""
        _check_formats(output_formats, "set_output_formats")
        return self

    def save_graph_topology(self, log_path, bigdl_type="float"):
        """Writes the graph (each layer, its class and the layers it reads) to a
        new TensorBoard event file in log_path, for TensorBoard's graph tab
        (`tensorboard --logdir log_path`); returns self."""
        if not isinstance(log_path, str) or not log_path:
            raise ValueError("save_graph_topology: log_path must be a non-empty string, got %r" % (log_path,))
        self._call("save_graph_topology", {"log_dir": log_path})
        return self

    @staticmethod
    def loadModel(modelPath, weightPath=None, bigdl_type="float"):
        """Loads a model written by saveModel (or save); weightPath gives the weights when
        saveModel wrote them to a file of their own."""
        args = {"path": _path_arg(modelPath, "modelPath")}
        if weightPath is not None:
            args["weight_path"] = _path_arg(weightPath, "weightPath")
        handle, _ = _native.call(0, "load", args)
        return Layer.of(handle, bigdl_type)


def _check_formats(formats, what):
    if not isinstance(formats, (list, tuple)) or not all(isinstance(f, int) and not isinstance(f, bool)
                                                         for f in formats):
        raise ValueError("%s: expected a list of integer format codes, got %r" % (what, formats))


class Linear(Layer):
    """y = x Wᵀ + b. Input (input_size,) or (batch, input_size); W is
    (output_size, input_size), b is (output_size,)."""

    def __init__(self, input_size, output_size, with_bias=True, wRegularizer=None, bRegularizer=None,
                 init_weight=None, init_bias=None, init_grad_weight=None, init_grad_bias=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, input_size=input_size, output_size=output_size, with_bias=with_bias)
        self._set_regularizers(wRegularizer, bRegularizer)
        if init_weight is not None or init_bias is not None:
            weights = self.get_weights()
            if init_weight is not None:
                weights[0] = init_weight
            if init_bias is not None:
                if not with_bias:
                    raise ValueError("Linear: init_bias given but with_bias is False")
                weights[1] = init_bias
            self.set_weights(weights)
        if init_grad_weight is not None or init_grad_bias is not None:
            _not_yet("Linear init_grad_weight/init_grad_bias")


class ReLU(Layer):
    """max(0, x), element-wise."""

    def __init__(self, ip=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, ip=ip)


class Tanh(Layer):
    """tanh(x), element-wise."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Sigmoid(Layer):
    """1 / (1 + exp(-x)), element-wise."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class SoftMax(Layer):
    """exp(x_i) / Σ_j exp(x_j) over the last dimension of 1-D or 2-D input."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class LogSoftMax(Layer):
    """x_i - log Σ_j exp(x_j) over the last dimension of 1-D or 2-D input."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Dropout(Layer):
    """Zeroes each element with probability init_p in training (scaling the
    rest by 1/(1-init_p) if scale); the identity in evaluation mode."""

    def __init__(self, init_p=0.5, inplace=False, scale=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, init_p=init_p, inplace=inplace, scale=scale)


class Identity(Layer):
    """Passes its input through."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Reshape(Layer):
    """Reshapes each sample to size. batch_mode None: a leading batch dim is
    kept when the element count is not prod(size); True: always; False: never."""

    def __init__(self, size, batch_mode=None, bigdl_type="float"):
        super().__init__(None, bigdl_type, size=list(size), batch_mode=batch_mode)


class View(Layer):
    """Reshapes to sizes (one may be -1); with num_input_dims, an input of more
    dims than that keeps its leading batch dim."""

    def __init__(self, sizes, num_input_dims=0, bigdl_type="float"):
        super().__init__(None, bigdl_type, sizes=list(to_list(sizes)), num_input_dims=num_input_dims)


class ActivityRegularization(Layer):
    """Passes its input through; backward adds l1·sign(x) + 2·l2·x (the
    gradient of the penalty l1·Σ|x| + l2·Σx²) to the output's gradient."""

    def __init__(self, l1=0.0, l2=0.0, bigdl_type="float"):
        super().__init__(None, bigdl_type, l1=l1, l2=l2)


# The table, container and shape layers live in their own module; they are
# BigDL's bigdl.nn.layer names.
from bigdl.nn._tables import *  # noqa: E402,F401,F403
from bigdl.nn._elementwise import *  # noqa: E402,F401,F403

# Convolution, pooling and normalisation layers, by family in their own module.
from bigdl.nn._conv import *  # noqa: E402,F401,F403

# Recurrent layers, in their own module.
from bigdl.nn._recurrent import *  # noqa: E402,F401,F403
