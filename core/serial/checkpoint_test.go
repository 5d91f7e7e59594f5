package serial

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bigdl-go/bigdl-go/core/optim"
)

func TestLatestCheckpointIsTheNewestCompletePair(t *testing.T) {
	root := t.TempDir()
	dir, err := RunDir(root, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != "20260102_030405" {
		t.Fatalf("run directory %s, want BigDL's yyyyMMdd_HHmmss", dir)
	}
	meth, _ := optim.NewMethod("SGD", nil)
	files := map[string]MethodFile{"net": {Class: "SGD", Method: meth}}
	for _, n := range []int{3, 12} {
		if err := WriteCheckpoint(dir, n, sample(), files, false); err != nil {
			t.Fatal(err)
		}
	}
	// Halves and leftovers a crash can leave: none of them is a checkpoint.
	os.WriteFile(filepath.Join(dir, "optimMethod-net.20"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "model.30"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, TempPrefix+"model.40-1"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "model.x"), []byte("x"), 0o644)
	for _, where := range []string{root, dir} {
		c, err := LatestCheckpoint(where)
		if err != nil {
			t.Fatal(err)
		}
		if c == nil || c.Neval != 12 || filepath.Base(c.Model) != "model.12" || filepath.Base(c.Methods["net"]) != "optimMethod-net.12" {
			t.Fatalf("LatestCheckpoint(%s) = %+v, want checkpoint 12", where, c)
		}
	}
	if err := WriteCheckpoint(dir, 12, sample(), files, false); err == nil || !strings.Contains(err.Error(), "over_write") {
		t.Fatalf("rewriting a checkpoint without overwrite: %v", err)
	}
	if c, err := LatestCheckpoint(filepath.Join(root, "missing")); c != nil || err != nil {
		t.Fatalf("a missing path holds no checkpoint, got %v, %v", c, err)
	}
	file := filepath.Join(root, "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := LatestCheckpoint(file); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("a file as checkpoint path: %v", err)
	}
	if _, err := RunDir(file, time.Now()); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Fatalf("RunDir under a file: %v", err)
	}
}
