package summary

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// FlushInterval is the longest a record waits in a Writer's buffer before
// it is written to its file (BigDL's writer flushed every second too), so
// TensorBoard shows a run while it trains.
const FlushInterval = time.Second

// flushBytes bounds a Writer's buffer between two flushes. The buffer is
// made large enough for that and one more histogram record (at most 1550
// buckets of two doubles), so it never grows while training.
const (
	flushBytes     = 256 << 10
	pendingReserve = flushBytes + 32<<10
)

// Writer appends events to a new event file in a directory. Its methods
// may be called from several goroutines.
type Writer struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	pending []byte // records not yet written to f
	since   time.Time
	timer   *time.Timer // flushes a record that no later one would flush in time
	armed   bool
	err     error                     // the first failed write: later ones report it again
	event   []byte                    // scratch buffers, reused so adding a record allocates nothing
	summary []byte                    //
	value   []byte                    //
	histo   []byte                    //
	counts  [len(bucketLimits)]uint32 //
	kept    []int32                   // the buckets a histogram lists
	closed  bool
}

// NewWriter creates dir if needed and a new event file in it,
// events.out.tfevents.<seconds>.<host>, which starts with the file-version
// event TensorBoard expects.
func NewWriter(dir string) (*Writer, error) {
	if dir == "" {
		return nil, errors.New("the log directory is empty")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the log directory %s: %w", dir, err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	now := time.Now()
	base := filepath.Join(dir, fmt.Sprintf("events.out.tfevents.%d.%s", now.Unix(), host))
	path := base
	var f *os.File
	// Two writers started in the same second in one directory each get a
	// file of their own.
	for i := 1; ; i++ {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, os.ErrExist) || i > 1000 {
			break
		}
		path = fmt.Sprintf("%s.%d", base, i)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot create an event file in %s: %w", dir, err)
	}
	w := &Writer{path: path, f: f, since: now, pending: make([]byte, 0, pendingReserve)}
	w.timer = time.AfterFunc(time.Hour, w.timedFlush)
	w.timer.Stop()
	w.event = appendEventHead(nil, unixSeconds(now), 0)
	w.event = appendString(w.event, eventFileVersion, fileVersion)
	w.pending = appendRecord(w.pending, w.event)
	if err := w.flushLocked(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return w, nil
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Now is the wall time events carry: seconds since the Unix epoch.
func Now() float64 { return unixSeconds(time.Now()) }

// Path is the event file's path.
func (w *Writer) Path() string { return w.path }

// Scalar records value under tag at step.
func (w *Writer) Scalar(tag string, value float32, step int64, wall float64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.value = appendString(w.value[:0], valueTag, tag)
	w.value = appendFloat(w.value, valueSimple, value)
	return w.addValueLocked(step, wall)
}

// Histogram records the distribution of values under tag at step, in
// BigDL's buckets (see bucketLimits). Nothing is recorded for no values.
func (w *Writer) Histogram(tag string, values []float32, step int64, wall float64) error {
	if len(values) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.histo = w.appendHistogram(w.histo[:0], values)
	w.value = appendString(w.value[:0], valueTag, tag)
	w.value = appendBytes(w.value, valueHisto, w.histo)
	return w.addValueLocked(step, wall)
}

// Graph records a graph for TensorBoard's graph tab.
func (w *Writer) Graph(nodes []Node, wall float64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.event = appendEventHead(w.event[:0], wall, 0)
	w.event = appendBytes(w.event, eventGraphDef, encodeGraph(nodes))
	return w.addEventLocked()
}

// addValueLocked wraps w.value in a Summary and an Event.
func (w *Writer) addValueLocked(step int64, wall float64) error {
	w.summary = appendBytes(w.summary[:0], summaryValue, w.value)
	w.event = appendEventHead(w.event[:0], wall, step)
	w.event = appendBytes(w.event, eventSummary, w.summary)
	return w.addEventLocked()
}

func (w *Writer) addEventLocked() error {
	if w.closed {
		return fmt.Errorf("event file %s is closed", w.path)
	}
	if w.err != nil {
		return w.err
	}
	w.pending = appendRecord(w.pending, w.event)
	if len(w.pending) >= flushBytes || time.Since(w.since) >= FlushInterval {
		return w.flushLocked()
	}
	// The next record may be minutes away (a trigger every epoch): a timer
	// writes this one within the interval anyway.
	if !w.armed {
		w.armed = true
		w.timer.Reset(FlushInterval)
	}
	return nil
}

// timedFlush is the timer's: a failure is reported by the next call.
func (w *Writer) timedFlush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false
	if !w.closed {
		w.flushLocked()
	}
}

// Flush writes the buffered records to the file.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	return w.flushLocked()
}

// flushLocked writes whole records only, in one write, so a reader never
// sees a record cut off unless the process died mid-write.
func (w *Writer) flushLocked() error {
	w.since = time.Now()
	if w.err != nil || len(w.pending) == 0 {
		return w.err
	}
	if _, err := w.f.Write(w.pending); err != nil {
		w.err = fmt.Errorf("writing the event file %s: %w", w.path, err)
		return w.err
	}
	w.pending = w.pending[:0]
	return nil
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	err := w.flushLocked()
	w.closed = true
	w.timer.Stop()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the event file %s: %w", w.path, cerr)
	}
	return err
}

// bucketLimits are BigDL's histogram buckets (TensorFlow's): 0, and
// ±1e-12·1.1^k for k = 0..773, in increasing order, then TensorFlow's last
// limit, the largest double, for values beyond ±1e-12·1.1^773 (about 1e20).
var bucketLimits = func() (l [1550]float64) {
	const mid = 774
	v := 1e-12
	for i := 1; i <= mid; i++ {
		l[mid+i], l[mid-i] = v, -v
		v *= 1.1
	}
	l[len(l)-1] = math.MaxFloat64
	return l
}()

// bucketOf is the first bucket whose limit is not below x (BigDL's
// bisectLeft): bucket i holds the values in (limit[i-1], limit[i]]. NaN
// counts in the last bucket.
func bucketOf(x float64) int {
	if x != x {
		return len(bucketLimits) - 1
	}
	lo, hi := 0, len(bucketLimits)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if bucketLimits[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// appendHistogram encodes the HistogramProto of values. Runs of empty
// buckets are collapsed into one empty bucket ending at the run's last
// limit, as TensorFlow encodes them, so every bucket keeps its range.
func (w *Writer) appendHistogram(b []byte, values []float32) []byte {
	clear(w.counts[:])
	lo, hi := math.Inf(1), math.Inf(-1)
	var sum, squares float64
	for _, v := range values {
		x := float64(v)
		lo, hi = min(lo, x), max(hi, x)
		sum += x
		squares += x * x
		w.counts[bucketOf(x)]++
	}
	b = appendDouble(b, histoMin, lo)
	b = appendDouble(b, histoMax, hi)
	b = appendDouble(b, histoNum, float64(len(values)))
	b = appendDouble(b, histoSum, sum)
	b = appendDouble(b, histoSumSquares, squares)
	w.kept = w.kept[:0]
	for i := 0; i < len(w.counts); i++ {
		for w.counts[i] == 0 && i+1 < len(w.counts) && w.counts[i+1] == 0 {
			i++
		}
		w.kept = append(w.kept, int32(i))
	}
	b = appendVarint(appendKey(b, histoLimits, wireBytes), uint64(8*len(w.kept)))
	for _, i := range w.kept {
		b = appendFixed64(b, math.Float64bits(bucketLimits[i]))
	}
	b = appendVarint(appendKey(b, histoCounts, wireBytes), uint64(8*len(w.kept)))
	for _, i := range w.kept {
		b = appendFixed64(b, math.Float64bits(float64(w.counts[i])))
	}
	return b
}
