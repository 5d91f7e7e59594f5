package serial

import (
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
