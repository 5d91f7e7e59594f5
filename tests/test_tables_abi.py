"""Tables across the C ABI: nested lists in and out in one call, and malformed nestings
refused with a clear error."""
import numpy as np
import pytest

from bigdl import _native
from bigdl.nn.layer import ConcatTable, Identity, SelectTable, Sequential


def test_nested_tables_round_trip():
    a, b, c = np.ones(2, np.float32), np.arange(3, dtype=np.float32), np.full((2, 2), 5, np.float32)
    out = SelectTable(2).forward([a, [b, [c]]])
    assert isinstance(out, list) and isinstance(out[1], list)
    np.testing.assert_array_equal(out[0], b)
    np.testing.assert_array_equal(out[1][0], c)
    # A one-element table comes back as its tensor, as in BigDL.
    np.testing.assert_array_equal(SelectTable(1).forward([[a]]), a)


def test_container_outputs_nest():
    m = Sequential().add(ConcatTable().add(Identity()).add(ConcatTable().add(Identity()).add(Identity())))
    x = np.arange(4, dtype=np.float32).reshape(2, 2)
    y = m.forward(x)
    assert len(y) == 2 and len(y[1]) == 2
    for t in (y[0], y[1][0], y[1][1]):
        np.testing.assert_array_equal(t, x)
    g = m.backward(x, [x, [x, x]])
    np.testing.assert_array_equal(g, 3 * x)


@pytest.mark.parametrize("tables,words", [
    ([[0, 5]], "names tensor 5"),
    ([[0]], "use 1 tensors, but 2 were given"),
    (["x"], "nesting must be"),
    ({"a": 1}, "tables must be a list"),
])
def test_malformed_nestings_are_refused(tables, words):
    layer = SelectTable(1)
    arrays = [np.ones(2, np.float32), np.ones(2, np.float32)]
    with pytest.raises(ValueError, match=words):
        _native.call(layer.value, "forward", {"tables": tables}, arrays)
    np.testing.assert_array_equal(layer.forward(arrays), arrays[0])
