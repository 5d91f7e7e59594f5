"""Objects that reach the Go core as descriptions (schedules, init methods):
a base class holding the spec, and argument checks that name the argument."""
import numbers

from bigdl.util.common import check_bigdl_type


def number(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError("%s must be a number, got %r" % (what, value))
    return float(value)


def count(value, what, least=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError("%s must be an integer ≥ %d, got %r" % (what, least, value))
    return int(value)


class Described(object):
    """Holds `_spec`, {"class": the class name, argument: value, ...}."""

    def __init__(self, bigdl_type="float", **spec):
        check_bigdl_type(bigdl_type)
        self.bigdl_type = bigdl_type
        self._spec = dict(spec, **{"class": type(self).__name__})

    def __repr__(self):
        args = ", ".join("%s=%r" % kv for kv in sorted(self._spec.items()) if kv[0] != "class")
        return "%s(%s)" % (type(self).__name__, args)
