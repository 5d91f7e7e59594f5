package serial

import (
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bigdl-go/bigdl-go/core/optim"
)

// The fuzz targets feed the readers arbitrary bytes: each input must give a
// clean error or a valid object, never a panic or a hang. Each input is
// tried as it is (almost always stopped by the checksum) and with its
// checksum fixed, so the fuzzer explores what lies behind it.
//
//	go test ./core/serial -run '^$' -fuzz FuzzModelFile -fuzztime 1m
//	go test ./core/serial -run '^$' -fuzz FuzzMethodFile -fuzztime 1m
//	go test ./core/serial -run '^$' -fuzz FuzzCheckpointDir -fuzztime 1m

// withChecksum is data with its last four bytes replaced by the checksum of
// the rest.
// fuzzInputs are the forms of a fuzzer's input a target tries: as it is,
// and with its checksum fixed, less those that ask for huge layers.
func fuzzInputs(data []byte) [][]byte {
	var out [][]byte
	for _, d := range [][]byte{data, withChecksum(data)} {
		if !bigNumber.Match(d) {
			out = append(out, d)
		}
	}
	return out
}

func withChecksum(data []byte) []byte {
	if len(data) < 4 {
		return data
	}
	out := append([]byte(nil), data[:len(data)-4]...)
	return le.AppendUint32(out, crc32.ChecksumIEEE(out))
}

// bigNumber finds numbers of 5 digits or more. A definition's layer sizes
// are trusted as a Python call's are (Linear(100000, 100000) is a valid
// model of 40 GB), so inputs that ask for huge layers are not built.
var bigNumber = regexp.MustCompile(`[0-9]{5}|[eE][+]?[0-9]`)

// watchdog makes an input that runs for more than a few seconds a crash
// the fuzzer reports (and keeps in testdata/fuzz), where it would otherwise
// stall the run without a word.
func watchdog(data any) func() bool {
	t := time.AfterFunc(10*time.Second, func() {
		panic(fmt.Sprintf("one input took more than 10s: %q", data))
	})
	return t.Stop
}

func seedFiles(f *testing.F) {
	dir := f.TempDir()
	m := sample()
	paths := []string{filepath.Join(dir, "m"), filepath.Join(dir, "d"), filepath.Join(dir, "w"), filepath.Join(dir, "o")}
	if err := Save(m, paths[0], false); err != nil {
		f.Fatal(err)
	}
	if err := SaveSplit(m, paths[1], paths[2], false); err != nil {
		f.Fatal(err)
	}
	meth, _ := optim.NewMethod("LBFGS", map[string]any{"ncorrection": 3.0})
	run := &optim.Position{Seed: 3, Records: 10, Resume: optim.Resume{State: optim.State{Epoch: 2, Iteration: 7}, Shuffles: 2, Cursor: 4, EpochRecords: 4}}
	if err := SaveMethod(MethodFile{Class: "LBFGS", Args: map[string]any{"ncorrection": 3.0}, Method: meth, Run: run}, paths[3], false); err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("\xac\xed\x00\x05sr\x00\x05hello"))
	f.Add(append([]byte{0x0a, 3, 'a', 'b', 'c', 7<<3 | 2, 25}, "com.intel.analytics.bigdl"...))
}

func FuzzModelFile(f *testing.F) {
	seedFiles(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		for _, d := range fuzzInputs(data) {
			for _, apart := range []bool{false, true} {
				m, err := decodeModel(d, apart)
				if err == nil && m == nil {
					t.Fatal("no model and no error")
				}
				if err == nil {
					// A model that loads saves, and loads back.
					again, err := encodeModel(m)
					if err != nil {
						t.Fatalf("a loaded model does not save: %v", err)
					}
					if _, err := decodeModel(again, false); err != nil {
						t.Fatalf("a loaded and saved model does not load: %v", err)
					}
				}
			}
			decodeWeights(d, sample())
		}
	})
}

func FuzzMethodFile(f *testing.F) {
	seedFiles(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		for _, d := range fuzzInputs(data) {
			mf, err := DecodeMethod(d)
			if err != nil {
				continue
			}
			// A method that loads saves again, and reads back the same.
			again, err := EncodeMethod(mf)
			if err != nil {
				t.Fatalf("a loaded method does not save: %v", err)
			}
			if _, err := DecodeMethod(again); err != nil {
				t.Fatalf("a loaded and saved method does not load: %v", err)
			}
		}
	})
}

// FuzzCheckpointDir gives the checkpoint loader's choice of a pair arbitrary
// file names. It works on the names, as a directory listing gives them, not
// on real files: file creation stalls for seconds while the machine writes
// back other work (a fresh CI venv), which made the fuzzer's deadline fail.
func FuzzCheckpointDir(f *testing.F) {
	f.Add("model.3 optimMethod-net.3 model.7 .bigdl-tmp-model.9-1 optimMethod-a.9")
	f.Add("model.12 optimMethod-x.12 optimMethod-y.12 model.-1 optimMethod-.4 model.4")
	f.Fuzz(func(t *testing.T, names string) {
		defer watchdog(names)()
		const dir = "/checkpoints/run"
		made := map[string]bool{}
		var files []string
		for _, n := range strings.Fields(names) {
			if strings.ContainsAny(n, "/\x00") || n == "." || n == ".." || made[n] {
				continue
			}
			made[n] = true
			files = append(files, n)
		}
		c := newestPair(dir, files)
		if c == nil {
			return
		}
		if filepath.Dir(c.Model) != dir || !made[filepath.Base(c.Model)] || len(c.Methods) == 0 {
			t.Fatalf("checkpoint %+v is not a pair that exists (%v)", c, names)
		}
		for _, p := range c.Methods {
			if !made[filepath.Base(p)] || IsTemp(p) {
				t.Fatalf("checkpoint %+v names a method file that is not one", c)
			}
		}
	})
}
