"""Containers and layers of tables, and the shape layers (BigDL's names and
signatures; bigdl.nn.layer re-exports them). Each is one call into the Go core."""
from bigdl.nn.layer import Container, Layer
from bigdl.util.common import INTMAX, INTMIN


class Concat(Container):
    """Gives the input to every child; concatenates their outputs along dimension
    (1-based, counting the batch dimension)."""

    def __init__(self, dimension, bigdl_type="float"):
        super().__init__(None, bigdl_type, dimension=dimension)


class ConcatTable(Container):
    """Gives the input to every child; the output is the list of their outputs."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class ParallelTable(Container):
    """Child i gets element i of the input table; the output is the list of their outputs."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class MapTable(Container):
    """Applies module to every element of the input table (replicas share its weights);
    the output is the list of the results."""

    def __init__(self, module=None, bigdl_type="float"):
        super().__init__(None, bigdl_type)
        if module is not None:
            self.add(module)


class Bottle(Container):
    """Runs module, which takes n_input_dim dimensions, on an input with more by folding the
    leading dimensions into one, and unfolds its output (of n_output_dim1 dimensions, by
    default n_input_dim)."""

    def __init__(self, module, n_input_dim=2, n_output_dim1=INTMAX, bigdl_type="float"):
        super().__init__(None, bigdl_type, n_input_dim=n_input_dim, n_output_dim1=n_output_dim1)
        self.add(module)


class JoinTable(Layer):
    """Concatenates a table of tensors along dimension; an input of n_input_dims + 1
    dimensions has a leading batch dimension that dimension does not count."""

    def __init__(self, dimension, n_input_dims, bigdl_type="float"):
        super().__init__(None, bigdl_type, dimension=dimension, n_input_dims=n_input_dims)


class SplitTable(Layer):
    """Splits a tensor along dimension into the list of its slices."""

    def __init__(self, dimension, n_input_dims=-1, bigdl_type="float"):
        super().__init__(None, bigdl_type, dimension=dimension, n_input_dims=n_input_dims)


class SelectTable(Layer):
    """Element index (1-based; negative counts from the end) of the input table."""

    def __init__(self, index, bigdl_type="float"):
        super().__init__(None, bigdl_type, index=index)


class NarrowTable(Layer):
    """length elements of the input table from offset (1-based); negative length counts from the end."""

    def __init__(self, offset, length=1, bigdl_type="float"):
        super().__init__(None, bigdl_type, offset=offset, length=length)


class FlattenTable(Layer):
    """The tensors of a nested table, as one flat table."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Pack(Layer):
    """Stacks a table of same-shaped tensors along a new dimension."""

    def __init__(self, dimension, bigdl_type="float"):
        super().__init__(None, bigdl_type, dimension=dimension)


class CAddTable(Layer):
    """Element-wise sum of a table of tensors."""

    def __init__(self, inplace=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, inplace=inplace)


class CMulTable(Layer):
    """Element-wise product of a table of tensors."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class CSubTable(Layer):
    """x1 - x2 for a table [x1, x2]."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class CDivTable(Layer):
    """x1 / x2 for a table [x1, x2]."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class CMaxTable(Layer):
    """Element-wise maximum of a table of tensors."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class CMinTable(Layer):
    """Element-wise minimum of a table of tensors."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class CAveTable(Layer):
    """Element-wise mean of a table of tensors."""

    def __init__(self, inplace=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, inplace=inplace)


class Select(Layer):
    """Index index along dim (both 1-based; negative counts from the end), dropping dim."""

    def __init__(self, dim, index, bigdl_type="float"):
        super().__init__(None, bigdl_type, dim=dim, index=index)


class Narrow(Layer):
    """length entries of dimension from offset (1-based); negative length counts from the end."""

    def __init__(self, dimension, offset, length=1, bigdl_type="float"):
        super().__init__(None, bigdl_type, dimension=dimension, offset=offset, length=length)


class Squeeze(Layer):
    """Removes dimension dim if its size is 1 (every size-1 dimension when dim is None);
    with num_input_dims, the input has a leading batch dimension."""

    def __init__(self, dim=None, num_input_dims=INTMIN, bigdl_type="float"):
        super().__init__(None, bigdl_type, dim=0 if dim is None else dim, num_input_dims=num_input_dims)


class Unsqueeze(Layer):
    """Inserts a size-1 dimension at pos, after any batch dimension beyond num_input_dims."""

    def __init__(self, pos, num_input_dims=INTMIN, bigdl_type="float"):
        super().__init__(None, bigdl_type, pos=pos, num_input_dims=num_input_dims)


class Transpose(Layer):
    """Swaps the dimension pairs in permutations, e.g. [(1, 2)], in order."""

    def __init__(self, permutations, bigdl_type="float"):
        try:
            flat = [int(d) for pair in permutations for d in pair]
        except TypeError:
            raise ValueError("Transpose: permutations must be a list of (dim_a, dim_b) pairs, got %r" % (permutations,))
        if any(len(pair) != 2 for pair in permutations):
            raise ValueError("Transpose: permutations must be a list of (dim_a, dim_b) pairs, got %r" % (permutations,))
        super().__init__(None, bigdl_type, permutations=flat)


class Padding(Layer):
    """Pads dimension dim with |pad| entries of value: before (pad < 0) or after (pad > 0)
    position n_index; an input of other than n_input_dim dimensions is batched."""

    def __init__(self, dim, pad, n_input_dim, value=0.0, n_index=1, bigdl_type="float"):
        super().__init__(None, bigdl_type, dim=dim, pad=pad, n_input_dim=n_input_dim, value=value, n_index=n_index)


class Replicate(Layer):
    """Repeats the input n_features times along a new dimension dim (one later when the
    input has more than n_dim dimensions)."""

    def __init__(self, n_features, dim=1, n_dim=INTMAX, bigdl_type="float"):
        super().__init__(None, bigdl_type, n_features=n_features, dim=dim, n_dim=n_dim)


class Reverse(Layer):
    """Reverses the order of the entries along dimension."""

    def __init__(self, dimension=1, is_inplace=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, dimension=dimension, is_inplace=is_inplace)


class Tile(Layer):
    """Repeats the input copies times along dim."""

    def __init__(self, dim=1, copies=2, bigdl_type="float"):
        super().__init__(None, bigdl_type, dim=dim, copies=copies)


class InferReshape(Layer):
    """Reshapes to size, where 0 keeps the input's size there and -1 is inferred;
    batch_mode keeps the first dimension."""

    def __init__(self, size, batch_mode=False, bigdl_type="float"):
        super().__init__(None, bigdl_type, size=list(size), batch_mode=batch_mode)


class Contiguous(Layer):
    """The identity (bigdl-go's tensors are always contiguous)."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Echo(Layer):
    """The identity, printing the size of each activation and gradient that passes."""

    def __init__(self, bigdl_type="float"):
        super().__init__(None, bigdl_type)


class Mean(Layer):
    """Mean over dimension (one later for an input of n_input_dims + 1 dimensions)."""

    def __init__(self, dimension=1, n_input_dims=-1, squeeze=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, dimension=dimension, n_input_dims=n_input_dims, squeeze=squeeze)


class Sum(Layer):
    """Sum (mean with size_average) over dimension (one later for an input of n_input_dims + 1 dimensions)."""

    def __init__(self, dimension=1, n_input_dims=-1, size_average=False, squeeze=True, bigdl_type="float"):
        super().__init__(None, bigdl_type, dimension=dimension, n_input_dims=n_input_dims,
                         size_average=size_average, squeeze=squeeze)


class Max(Layer):
    """Maximum over dim (one later for an input of num_input_dims + 1 dimensions)."""

    def __init__(self, dim=1, num_input_dims=INTMIN, bigdl_type="float"):
        super().__init__(None, bigdl_type, dim=dim, num_input_dims=num_input_dims)


class Min(Layer):
    """Minimum over dim (one later for an input of num_input_dims + 1 dimensions)."""

    def __init__(self, dim=1, num_input_dims=INTMIN, bigdl_type="float"):
        super().__init__(None, bigdl_type, dim=dim, num_input_dims=num_input_dims)
