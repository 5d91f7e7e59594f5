package serial

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

func sample() nn.Module {
	s := nn.NewSequential()
	s.Add(nn.NewLinear(4, 3, true))
	s.Add(nn.NewReLU(false))
	d, _ := nn.New("Dropout", map[string]any{"init_p": 0.25})
	s.Add(d)
	s.Add(nn.NewLinear(3, 2, false))
	s.Add(nn.NewLogSoftMax())
	s.Meta().SetName("net")
	return s
}

func TestRoundTripIsExact(t *testing.T) {
	m := sample()
	path := filepath.Join(t.TempDir(), "m.bigdl")
	if err := Save(m, path, false); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Meta().Name() != "net" || back.String() != m.String() {
		t.Fatalf("structure changed:\n%s\nvs\n%s", back, m)
	}
	a, b := nn.AllParams(m), nn.AllParams(back)
	for i := range a {
		for j := range a[i].Value.Data {
			if a[i].Value.Data[j] != b[i].Value.Data[j] {
				t.Fatalf("param %d value %d differs", i, j)
			}
		}
	}
	nn.SetTraining(m, false)
	nn.SetTraining(back, false)
	x := tensor.FromData([]float32{1, -2, 3, 0.5}, 1, 4)
	ya, yb := m.Forward(x).Clone(), back.Forward(x)
	for i := range ya.Data {
		if ya.Data[i] != yb.Data[i] {
			t.Fatalf("prediction differs after reload")
		}
	}
	if err := Save(m, path, false); err == nil || !strings.Contains(err.Error(), "over_write") {
		t.Fatalf("overwriting without over_write: %v", err)
	}
	if err := Save(m, path, true); err != nil {
		t.Fatal(err)
	}
}

func TestBadFilesAreNamed(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := Save(sample(), good, false); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	cases := map[string][]byte{
		"truncated": data[:len(data)/2],
		"foreign":   []byte("PK\x03\x04 this is a zip file, not a model"),
		"corrupted": append(append([]byte(nil), data[:len(data)-9]...), 0xff, 0, 0, 0, 0, 0, 0, 0, 0),
		"version":   append(append([]byte(Magic), 9, 0, 0, 0), data[len(Magic)+4:]...),
		"empty":     nil,
	}
	for name, content := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, content, 0o644)
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: want an error naming %s, got %v", name, p, err)
		}
	}
}

func TestSplitFilesRoundTripAndRefuseMixUps(t *testing.T) {
	dir := t.TempDir()
	m := sample()
	def, w := filepath.Join(dir, "m.def"), filepath.Join(dir, "m.w")
	if err := SaveSplit(m, def, w, false); err != nil {
		t.Fatal(err)
	}
	back, err := LoadSplit(def, w)
	if err != nil {
		t.Fatal(err)
	}
	a, b := nn.AllParams(m), nn.AllParams(back)
	for i := range a {
		if !slices.Equal(a[i].Value.Data, b[i].Value.Data) {
			t.Fatalf("param %d differs after the round trip", i)
		}
	}
	for path, want := range map[string]string{def: "weight_path", w: "weight file"} {
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("Load(%s): want an error naming it and %q, got %v", path, want, err)
		}
	}
	before, _ := os.ReadFile(w)
	if err := SaveSplit(sample(), filepath.Join(dir, "new.def"), w, false); err == nil {
		t.Fatal("SaveSplit over an existing weight file without overwrite succeeded")
	}
	if after, _ := os.ReadFile(w); !slices.Equal(before, after) {
		t.Fatal("a refused save changed the existing weight file")
	}
	if _, err := os.Stat(filepath.Join(dir, "new.def")); err == nil {
		t.Fatal("a refused save wrote the definition file")
	}
}

func TestWriteFileAtomicLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteFileAtomic(p, []byte("one"), false); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("two"), false); err == nil || !strings.Contains(err.Error(), "over_write") {
		t.Fatalf("want an over_write error, got %v", err)
	}
	if err := WriteFileAtomic(p, []byte("three"), true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "three" {
		t.Fatalf("file holds %q", b)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"), true); err == nil ||
		!strings.Contains(err.Error(), filepath.Join(dir, "missing", "f")) {
		t.Fatalf("want an error naming the path, got %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only f", len(entries))
	}
}

func TestForeignFormatsAreNamed(t *testing.T) {
	proto := append([]byte{0x0a, 3, 'a', 'b', 'c', 7<<3 | 2, 25}, "com.intel.analytics.bigdl"...)
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"java":  {[]byte("\xac\xed\x00\x05sr\x00\x10whatever"), "Java-serialised"},
		"proto": {proto, "BigDL protobuf"},
		"text":  {[]byte("hello"), "not a bigdl-go file"},
	} {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, c.data, 0o644)
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want %q, got %v", name, c.want, err)
		}
	}
}

// bnModel is a Linear and a BatchNormalization whose running statistics
// have moved away from their initial values.
func bnModel(t *testing.T) nn.Module {
	s := nn.NewSequential()
	s.Add(nn.NewLinear(4, 3, true))
	bn, err := nn.New("BatchNormalization", map[string]any{"n_output": 3.0})
	if err != nil {
		t.Fatal(err)
	}
	s.Add(bn)
	s.Forward(tensor.FromData([]float32{1, -2, 3, 0.5, 2, 0, -1, 4, 0.3, 0.1, 0.9, -3}, 3, 4))
	return s
}

// The running statistics travel with the weights.
func TestRunningStatisticsRoundTrip(t *testing.T) {
	m := bnModel(t)
	path := filepath.Join(t.TempDir(), "bn.bigdl")
	if err := Save(m, path, false); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := nn.AllExtraParams(m), nn.AllExtraParams(back)
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("%d and %d extra parameters, want 2", len(a), len(b))
	}
	for i := range a {
		if a[i].Data[0] == []float32{0, 1}[i] {
			t.Fatalf("test set-up: running statistic %d did not move", i)
		}
		for j := range a[i].Data {
			if a[i].Data[j] != b[i].Data[j] {
				t.Fatalf("running statistic %d value %d: %v saved, %v loaded", i, j, a[i].Data[j], b[i].Data[j])
			}
		}
	}
}

// A version 1 file (no extra parameters) still loads; its running
// statistics are the initial ones.
func TestVersionOneFilesLoad(t *testing.T) {
	m := bnModel(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "v2")
	if err := Save(m, path, false); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	// Drop the extra parameters' section: its count, then two 1-D tensors of 3.
	extra := 4 + 2*(4+8+3*4)
	body := append([]byte(nil), data[:len(data)-4-extra]...)
	body[len(Magic)] = 1
	v1 := append(body, binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(body))...)
	os.WriteFile(filepath.Join(dir, "v1"), v1, 0o644)
	back, err := Load(filepath.Join(dir, "v1"))
	if err != nil {
		t.Fatal(err)
	}
	e := nn.AllExtraParams(back)
	if e[0].Data[0] != 0 || e[1].Data[0] != 1 {
		t.Fatalf("running statistics %v, %v: want the initial 0 and 1", e[0].Data, e[1].Data)
	}
	w := nn.AllParams(back)[0].Value.Data[0]
	if w != nn.AllParams(m)[0].Value.Data[0] {
		t.Fatal("the weights of a version 1 file were not read")
	}
}
