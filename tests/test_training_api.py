"""The training API beyond SGD: bad Samples, schedules, optim methods,
clipping, initialisation methods, LocalOptimizer and Optimizer.create."""
import numpy as np
import pytest

from bigdl.util.common import Sample


@pytest.mark.parametrize("features,labels,arg", [
    (None, 1, "features"),
    ([[1.0, 2.0], [3.0]], 1, "features"),
    (["a", "b"], 1, "features"),
    (np.ones(3), None, "labels"),
    (np.ones(3), "one", "labels"),
    (np.ones(3), [[1.0], [2.0, 3.0]], "labels"),
])
def test_bad_samples_raise_at_once_naming_the_argument(features, labels, arg):
    with pytest.raises(ValueError, match=arg):
        Sample.from_ndarray(features, labels)


def test_a_list_of_numbers_is_one_tensor():
    s = Sample.from_ndarray([1.0, 2.0, 3.0], 2)
    assert len(s.features) == 1 and s.feature.to_ndarray().tolist() == [1.0, 2.0, 3.0]
    assert s.label.to_ndarray().tolist() == [2.0]
