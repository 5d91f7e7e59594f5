"""optimize()'s progress bar: epoch, iteration, loss, records/s and time left.

The bar is tqdm's (`tqdm.auto`: a widget in Jupyter when ipywidgets is
installed, text otherwise). It is shown only when tqdm is installed (the
`notebook` extra brings it), stderr is a terminal or a Jupyter kernel's, and
neither BIGDL_PROGRESS=0 nor show_progress_bar(False) turned it off; in every
other case optimize() runs exactly as without it. The bar reads the loop's
structured progress (epoch, iteration, records of the epoch, loss), from the
Go core's poll locally and from task 0's progress messages on Spark.

While a text bar is up, the console handlers on the `bigdl` logger's way to
the root write through tqdm (clear the bar, write the line, redraw), so log
lines and bar never share a terminal line.
"""
import importlib.util
import logging
import os
import sys
import threading
import warnings

_show = None  # show_progress_bar()'s choice; None: BIGDL_PROGRESS decides


def show_progress_bar(show=True):
    """Shows (True) or hides (False) optimize()'s progress bar in this
    process, whatever BIGDL_PROGRESS says; None hands the choice back to
    BIGDL_PROGRESS ("0" hides the bar, "1" or unset shows it). Shown, the
    bar still needs tqdm and a stderr that is a terminal or a notebook's."""
    global _show
    if show is not None and not isinstance(show, bool):
        raise ValueError("show_progress_bar: show must be True, False or None, got %r" % (show,))
    _show = show


def _wanted():
    if _show is not None:
        return _show
    v = os.environ.get("BIGDL_PROGRESS", "").strip()
    if v not in ("", "0", "1"):
        raise ValueError('BIGDL_PROGRESS must be "0" (no progress bar) or "1" (a bar in terminals and '
                         'notebooks), got %r' % v)
    return v != "0"


def _stderr_kind():
    """"terminal", "notebook" (a Jupyter kernel's stderr) or None."""
    err = sys.stderr
    try:
        if err is not None and err.isatty():
            return "terminal"
    except (AttributeError, ValueError):  # no isatty, or a closed file
        pass
    iostream = sys.modules.get("ipykernel.iostream")  # a kernel has imported it; never import it here
    if iostream is not None and isinstance(err, iostream.OutStream):
        return "notebook"
    return None


def _tqdm_class():
    """tqdm.auto's class, or None without tqdm."""
    try:
        with warnings.catch_warnings():
            # In a kernel without ipywidgets tqdm.auto warns, then draws text:
            # the fallback this module promises, so no warning.
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def _end_records(spec, records_per_epoch, batch_size):
    """The records a run with this end trigger trains, when the trigger
    says so (MaxEpoch, MaxIteration and their combinations); else None.
    An epoch's last mini-batch takes what is left, so iterations map to
    records exactly."""
    cls = spec.get("class")
    if cls == "MaxEpoch":
        return spec["max_epoch"] * records_per_epoch
    if cls == "MaxIteration":
        per_epoch = -(-records_per_epoch // batch_size)
        epochs, rest = divmod(spec["max"], per_epoch)
        return epochs * records_per_epoch + min(rest * batch_size, records_per_epoch)
    if cls in ("TriggerAnd", "TriggerOr"):
        ends = [_end_records(t, records_per_epoch, batch_size) for t in spec["triggers"]]
        known = [e for e in ends if e is not None]
        if cls == "TriggerOr":  # the first to fire ends it; one that never says may end it earlier
            return min(known) if known else None
        return max(known) if len(known) == len(ends) else None
    return None


class _NoBar(object):
    """What progress_bar gives when there is to be no bar."""

    def update(self, status):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Bar(_NoBar):
    """One run's bar. update() takes a progress status (epoch, iteration,
    epoch_records, loss) from any thread: on Spark the channel's. close()
    leaves the bar where the run ended and hands the console handlers their
    streams back."""

    def __init__(self, tqdm, records_per_epoch, batch_size, end_trigger, handlers, start):
        self._per_epoch = records_per_epoch
        self._max_epoch = end_trigger.get("max_epoch") if end_trigger.get("class") == "MaxEpoch" else None
        self._lock = threading.Lock()
        # A run that goes on from an earlier one's counters starts its bar there, so that the
        # rate and time left count only this run's records.
        epoch, in_epoch = start
        total = _end_records(end_trigger, records_per_epoch, batch_size)  # None: the trigger sets no end
        done = (epoch - 1) * records_per_epoch + in_epoch
        self._tqdm = tqdm(total=total, initial=done if total is None else min(done, total), unit="rec",
                          unit_scale=True, desc=self._epoch_text(epoch), leave=True)
        self._swapped = [(h, h.setStream(_AboveBar(tqdm, h.stream))) for h in handlers]

    def _epoch_text(self, epoch):
        return "Epoch %d/%d" % (epoch, self._max_epoch) if self._max_epoch else "Epoch %d" % epoch

    def update(self, status):
        epoch, iteration, in_epoch = status["epoch"], status["iteration"], status["epoch_records"]
        if epoch < 1 or iteration < 1:
            return
        done = (epoch - 1) * self._per_epoch + in_epoch
        if in_epoch == 0:  # the loop has moved past a finished epoch: show that one
            epoch -= 1
        with self._lock:
            bar = self._tqdm
            if bar.disable:  # closed: a late message from Spark's channel
                return
            bar.set_description_str(self._epoch_text(epoch), refresh=False)
            bar.set_postfix_str("iteration %d, loss %.4g" % (iteration, status["loss"]), refresh=False)
            bar.update(done - bar.n)  # redraws at most every tqdm.mininterval

    def close(self):
        with self._lock:
            self._tqdm.close()
            for h, stream in reversed(self._swapped):
                h.setStream(stream)
            self._swapped = []


class _AboveBar(object):
    """A stream for a logging handler while a text bar is up: every write
    clears the bars, writes, and redraws them."""

    def __init__(self, tqdm, stream):
        self._tqdm, self._stream = tqdm, stream

    def write(self, s):
        with self._tqdm.external_write_mode(file=self._stream):
            self._stream.write(s)

    def flush(self):
        self._stream.flush()


def _console_handlers(logger):
    """The handlers a `bigdl` record reaches that write to stdout or stderr."""
    out = []
    while logger is not None:
        for h in logger.handlers:
            if isinstance(h, logging.StreamHandler) and h.stream in (sys.stderr, sys.stdout):
                out.append(h)
        logger = logger.parent if logger.propagate else None
    return out


def progress_bar(records_per_epoch, batch_size, end_trigger, log, start=(1, 0)):
    """The bar of one optimize() run: an object with update(status) and
    close(), also a context manager; one that draws nothing when there is
    to be no bar. log is the logger whose console handlers write around a
    text bar; start is the run's first (epoch, records of it done), where an
    earlier run's counters left them."""
    kind = _stderr_kind() if _wanted() else None
    tqdm = _tqdm_class() if kind else None
    if tqdm is None:
        return _NoBar()
    handlers = _console_handlers(log) if kind == "terminal" else []
    return _Bar(tqdm, records_per_epoch, batch_size, end_trigger, handlers, start)


def bar_possible():
    """Whether optimize() may show a bar in this process (asked before Spark
    starts, whose own console bar would share the terminal line)."""
    return _wanted() and _stderr_kind() is not None and importlib.util.find_spec("tqdm") is not None
