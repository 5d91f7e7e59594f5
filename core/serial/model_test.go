package serial

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
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
