package serial

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bigdl-go/bigdl-go/core/nn"
)

// Checkpoints follow BigDL's layout: each run writes into a subdirectory of
// the checkpoint path named by its start time (yyyyMMdd_HHmmss), and each
// checkpoint is "model.<n>" and one "optimMethod-<name>.<n>" per optim
// method (<name> the model's name, or the submodule's for a dict of
// methods), where n is BigDL's "neval": the number of the next iteration.
// The methods are written before the model, each file atomically, so a
// model file marks a complete checkpoint.

// RunDir creates (or reuses) the subdirectory of root for a run started at
// now, creating root too if it is missing.
func RunDir(root string, now time.Time) (string, error) {
	if st, err := os.Stat(root); err == nil && !st.IsDir() {
		return "", fmt.Errorf("checkpoint path %s is a file, not a directory", root)
	}
	dir := filepath.Join(root, now.Format("20060102_150405"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint path %s: %w", root, err)
	}
	return dir, nil
}

// WriteCheckpoint writes model and methods (by name) into dir as checkpoint n.
func WriteCheckpoint(dir string, n int, model nn.Module, methods map[string]MethodFile, overwrite bool) error {
	names := make([]string, 0, len(methods))
	for name := range methods {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := SaveMethod(methods[name], filepath.Join(dir, fmt.Sprintf("optimMethod-%s.%d", name, n)), overwrite); err != nil {
			return err
		}
	}
	return Save(model, filepath.Join(dir, fmt.Sprintf("model.%d", n)), overwrite)
}

// CheckpointFiles names the files of one complete checkpoint.
type CheckpointFiles struct {
	Neval   int               `json:"neval"`
	Model   string            `json:"model"`
	Methods map[string]string `json:"methods"` // by name
}

// LatestCheckpoint finds the newest complete checkpoint in dir, or in the
// run subdirectories of dir when dir holds none of its own (so both a run's
// directory and the checkpoint path given to set_checkpoint work); nil when
// there is none (a path that does not exist holds none). Temporary files and a checkpoint's unpaired half (methods
// written, model not yet) are ignored.
func LatestCheckpoint(dir string) (*CheckpointFiles, error) {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // nothing was saved there yet
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint path %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("checkpoint path %s is a file, not a directory", dir)
	}
	best, err := latestIn(dir)
	if err != nil || best != nil {
		return best, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint path %s: %w", dir, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, err := latestIn(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if c != nil && (best == nil || c.Neval > best.Neval || c.Neval == best.Neval && c.Model > best.Model) {
			best = c
		}
	}
	return best, nil
}

func latestIn(dir string) (*CheckpointFiles, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint path %s: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() {
			files = append(files, e.Name())
		}
	}
	return newestPair(dir, files), nil
}

// newestPair is the newest complete checkpoint among the files of dir: a
// model.<n> with at least one optimMethod-<name>.<n>, temporary files left
// out (nil when there is none).
func newestPair(dir string, files []string) *CheckpointFiles {
	models := map[int]string{}
	methods := map[int]map[string]string{}
	for _, name := range files {
		if IsTemp(name) {
			continue
		}
		dot := strings.LastIndexByte(name, '.')
		if dot < 0 {
			continue
		}
		n, err := strconv.Atoi(name[dot+1:])
		if err != nil || n < 1 {
			continue
		}
		switch stem := name[:dot]; {
		case stem == "model":
			models[n] = filepath.Join(dir, name)
		case strings.HasPrefix(stem, "optimMethod-") && len(stem) > len("optimMethod-"):
			if methods[n] == nil {
				methods[n] = map[string]string{}
			}
			methods[n][stem[len("optimMethod-"):]] = filepath.Join(dir, name)
		}
	}
	best := -1
	for n := range models {
		if methods[n] != nil && n > best {
			best = n
		}
	}
	if best < 0 {
		return nil
	}
	return &CheckpointFiles{Neval: best, Model: models[best], Methods: methods[best]}
}
