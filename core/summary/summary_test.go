package summary

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSample writes a file with every kind of record and returns its path.
func writeSample(t testing.TB, dir string) string {
	t.Helper()
	w, err := NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	for step := int64(1); step <= 5; step++ {
		if err := w.Scalar("Loss", float32(1)/float32(step), step, 1000+float64(step)); err != nil {
			t.Fatal(err)
		}
		if err := w.Scalar("Throughput", 100*float32(step), step, 1000+float64(step)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Histogram("fc/weight", []float32{-2, -0.5, 0, 0, 1e-13, 0.25, 3, 1e30}, 5, 1005); err != nil {
		t.Fatal(err)
	}
	if err := w.Graph([]Node{{Name: "in", Op: "Input"}, {Name: "fc", Op: "Linear", Inputs: []string{"in"}}}, 1006); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Path()
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	path := writeSample(t, dir)
	if !strings.HasPrefix(filepath.Base(path), "events.out.tfevents.") {
		t.Fatalf("event file name %s", path)
	}
	events, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1+10+1+1 || events[0].FileVersion != "brain.Event:2" {
		t.Fatalf("got %d events, first %+v", len(events), events[0])
	}
	loss, err := ReadScalar(dir, "Loss")
	if err != nil {
		t.Fatal(err)
	}
	if len(loss) != 5 {
		t.Fatalf("Loss: %d points", len(loss))
	}
	for i, p := range loss {
		if p.Step != int64(i+1) || p.Value != float32(1)/float32(i+1) || p.WallTime != 1000+float64(i+1) {
			t.Fatalf("Loss point %d: %+v", i, p)
		}
	}
	h := events[11].Values[0].Histogram
	if h == nil || events[11].Values[0].Tag != "fc/weight" || events[11].Step != 5 {
		t.Fatalf("histogram event %+v", events[11])
	}
	var sum float64
	for _, v := range []float32{-2, -0.5, 0, 0, 1e-13, 0.25, 3, 1e30} {
		sum += float64(v)
	}
	if h.Min != -2 || h.Max != float64(float32(1e30)) || h.Num != 8 || h.Sum != sum {
		t.Fatalf("histogram stats %+v", h)
	}
	nodes, err := DecodeGraph(events[12].GraphDef)
	if err != nil || len(nodes) != 2 || nodes[1].Name != "fc" || nodes[1].Op != "Linear" || nodes[1].Inputs[0] != "in" {
		t.Fatalf("graph %+v, %v", nodes, err)
	}
}

// Every value lies in its bucket's range, the counts sum to the values,
// and runs of empty buckets are collapsed.
func TestHistogramBuckets(t *testing.T) {
	values := []float32{-3e25, -1, -1, -1e-12, -1e-13, 0, 1e-12, 1.05e-12, 0.5, 0.5, 0.5, 7, 2e20, float32(math.Inf(1))}
	w := &Writer{}
	h, err := decodeHistogram(w.appendHistogram(nil, values))
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for i, c := range h.Counts {
		total += c
		if i > 0 && !(h.Limits[i] > h.Limits[i-1]) {
			t.Fatalf("limits not increasing at %d: %v", i, h.Limits)
		}
		if i > 0 && c == 0 && h.Counts[i-1] == 0 {
			t.Fatalf("two empty buckets in a row at %d", i)
		}
	}
	if total != float64(len(values)) || h.Num != total {
		t.Fatalf("counts sum to %v, num %v, want %d", total, h.Num, len(values))
	}
	for _, v := range values {
		x := float64(v)
		i := 0
		for i < len(h.Limits)-1 && h.Limits[i] < x {
			i++
		}
		if h.Counts[i] == 0 {
			t.Fatalf("%v has no count in its bucket (%v]", x, h.Limits[i])
		}
		if i > 0 && !(x > h.Limits[i-1]) {
			t.Fatalf("%v in bucket (%v, %v]", x, h.Limits[i-1], h.Limits[i])
		}
	}
	if h.Limits[len(h.Limits)-1] != math.MaxFloat64 {
		t.Fatalf("last limit %v", h.Limits[len(h.Limits)-1])
	}
	// BigDL's limits: 0 in the middle, ±1e-12 beside it, 1.1 apart.
	if bucketLimits[774] != 0 || bucketLimits[775] != 1e-12 || bucketLimits[773] != -1e-12 ||
		math.Abs(bucketLimits[776]/bucketLimits[775]-1.1) > 1e-12 {
		t.Fatalf("bucket limits around 0: %v", bucketLimits[772:777])
	}
}

// A file cut off anywhere reads as the records before the cut.
func TestTruncated(t *testing.T) {
	data, err := os.ReadFile(writeSample(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	ends := map[int]int{} // byte offset where record k ends -> k+1
	off := 0
	for k := range whole {
		n := int(uint64(data[off]) | uint64(data[off+1])<<8 | uint64(data[off+2])<<16)
		off += 16 + n
		ends[off] = k + 1
	}
	want := 0
	for cut := 0; cut <= len(data); cut++ {
		if k, ok := ends[cut]; ok {
			want = k
		}
		got, err := Parse(data[:cut])
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if len(got) != want {
			t.Fatalf("cut at %d: %d events, want %d", cut, len(got), want)
		}
	}
}

func TestCorrupt(t *testing.T) {
	data, err := os.ReadFile(writeSample(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{3, 9, 20, len(data) - 2} {
		bad := bytes.Clone(data)
		bad[at] ^= 0x40
		if _, err := Parse(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d flipped: err %v", at, err)
		}
	}
}

func TestUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "train")
	if _, err := NewWriter(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("NewWriter(%s): %v", dir, err)
	}
	if os.Getuid() != 0 {
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		if _, err := NewWriter(ro); err == nil || !strings.Contains(err.Error(), ro) {
			t.Fatalf("NewWriter(%s): %v", ro, err)
		}
	}
}

// A record is in the file within FlushInterval even when no later record
// comes to flush it.
func TestFlushedWithoutLaterRecords(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	start := time.Now()
	if err := w.Scalar("Loss", 1, 1, 1); err != nil {
		t.Fatal(err)
	}
	for {
		points, err := ReadScalar(dir, "Loss")
		if err != nil {
			t.Fatal(err)
		}
		if len(points) == 1 {
			break
		}
		if time.Since(start) > FlushInterval+2*time.Second {
			t.Fatalf("the record was not written within %v", time.Since(start))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Recording allocates nothing once the buffers have grown.
func TestNoAllocs(t *testing.T) {
	w, err := NewWriter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	values := make([]float32, 1000)
	for i := range values {
		values[i] = float32(i) - 500
	}
	step := int64(0)
	record := func() {
		step++
		if err := w.Scalar("Loss", 0.5, step, 1); err != nil {
			t.Fatal(err)
		}
		if err := w.Histogram("w", values, step, 1); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		record()
	}
	w.Flush()
	if n := testing.AllocsPerRun(100, record); n != 0 {
		t.Fatalf("%v allocations per record", n)
	}
}

// testdata holds the files of a real training run (a graph Model, three
// iterations with every train series, validation at iteration 2).
var runFiles = []string{"testdata/train.tfevents", "testdata/validation.tfevents", "testdata/graph.tfevents"}

func TestTrainingRunFiles(t *testing.T) {
	tags := map[string]int{}
	steps := map[string][]int64{}
	var nodes []Node
	for _, f := range runFiles {
		events, err := ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 || events[0].FileVersion != "brain.Event:2" {
			t.Fatalf("%s: no file version first", f)
		}
		for _, e := range events {
			for _, v := range e.Values {
				tags[v.Tag]++
				steps[v.Tag] = append(steps[v.Tag], e.Step)
			}
			if e.GraphDef != nil {
				if nodes, err = DecodeGraph(e.GraphDef); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if tags["Loss"] != 4 || tags["Throughput"] != 3 || tags["LearningRate"] != 3 || tags["Top1Accuracy"] != 1 || len(tags) != 8 {
		t.Fatalf("tags %v", tags)
	}
	if len(nodes) != 3 || nodes[1].Op != "Linear" || nodes[2].Inputs[0] != nodes[1].Name {
		t.Fatalf("graph %+v", nodes)
	}
}

func FuzzParse(f *testing.F) {
	data, err := os.ReadFile(writeSample(f, f.TempDir()))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte{})
	for _, name := range runFiles {
		run, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(run)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		events, err := Parse(b)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error not marked corrupt: %v", err)
		}
		for _, e := range events {
			if e.GraphDef != nil {
				DecodeGraph(e.GraphDef)
			}
		}
	})
}
