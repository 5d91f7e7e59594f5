"""BigDL's bigdl.dataset.transformer."""
import numpy as np


def normalizer(data, mean, std):
    """(data - mean) / std, element by element."""
    return np.divide(np.subtract(data, mean), std)
