// Package serial reads and writes bigdl-go's files: models (definition and
// weights in one file, or in two), and optim methods with the state needed
// to continue a run. Every file is written atomically (WriteFileAtomic), so
// a crash never leaves a half-written file where a good one was.
//
// A model file is: the magic "BIGDLGO\x00"; the format version (uint32);
// the model definition as JSON (uint64 length, then the bytes); the
// parameter tensors (uint32 count, then for each its rank (uint32),
// dimensions (uint64 each) and values as little-endian float32); and a
// CRC-32 (IEEE) of everything before it. The other kinds differ in the
// magic's last byte and their body (format.go).
package serial

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Magic opens every model file.
const Magic = "BIGDLGO\x00"

// Version is the format this package writes. It reads it and version 1,
// which had no extra parameters (a model loaded from one keeps its layers'
// initial running statistics).
const Version = 2

// Save writes m, definition and weights, to path. Without overwrite an
// existing file is an error.
func Save(m nn.Module, path string, overwrite bool) error {
	data, err := encodeModel(m)
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	return WriteFileAtomic(path, data, overwrite)
}

func encodeModel(m nn.Module) ([]byte, error) {
	def, err := json.Marshal(nn.Describe(m))
	if err != nil {
		return nil, err
	}
	buf := header(kindModel)
	writeBytes(buf, def)
	writeWeights(buf, m)
	return seal(buf), nil
}

// SaveSplit writes m's definition to modelPath and its weights to
// weightPath (BigDL's saveModel with a weight path). Without overwrite,
// either file existing is an error and neither is written.
func SaveSplit(m nn.Module, modelPath, weightPath string, overwrite bool) error {
	if modelPath == weightPath {
		return fmt.Errorf("saveModel: the model path and the weight path are both %s", modelPath)
	}
	if !overwrite {
		for _, p := range []string{modelPath, weightPath} {
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("%s already exists: pass over_write=True to replace it", p)
			}
		}
	}
	def, err := json.Marshal(nn.Describe(m))
	if err != nil {
		return fmt.Errorf("saving %s: %w", modelPath, err)
	}
	wbuf := header(kindWeights)
	writeWeights(wbuf, m)
	dbuf := header(kindDefinition)
	writeBytes(dbuf, def)
	// The weights first: a definition never names a weight file that was
	// not written.
	if err := WriteFileAtomic(weightPath, seal(wbuf), overwrite); err != nil {
		return err
	}
	return WriteFileAtomic(modelPath, seal(dbuf), overwrite)
}

// writeWeights writes m's parameters, then its extra parameters (running
// statistics, nn.AllExtraParams).
func writeWeights(buf *bytes.Buffer, m nn.Module) {
	writeTensors(buf, paramValues(m))
	writeTensors(buf, nn.AllExtraParams(m))
}

// readWeights reads what writeWeights wrote into m; a version 1 file has no
// extra parameters.
func (r *reader) readWeights(m nn.Module) error {
	params := nn.AllParams(m)
	if err := r.readTensors(paramValues(m), "parameters", func(i int) string { return params[i].Name }); err != nil {
		return err
	}
	if r.version < 2 {
		return nil
	}
	return r.readTensors(nn.AllExtraParams(m), "running statistics", func(i int) string {
		return fmt.Sprintf("running statistic %d", i+1)
	})
}

func paramValues(m nn.Module) []*tensor.Tensor {
	params := nn.AllParams(m)
	out := make([]*tensor.Tensor, len(params))
	for i, p := range params {
		out[i] = p.Value
	}
	return out
}

// Load reads a model file written by Save.
func Load(path string) (nn.Module, error) {
	return LoadSplit(path, "")
}

// LoadSplit reads a model from modelPath; a weightPath other than "" gives
// its weights (and must be given when modelPath holds only a definition).
func LoadSplit(modelPath, weightPath string) (nn.Module, error) {
	data, err := readFile(modelPath, "model")
	if err != nil {
		return nil, err
	}
	m, err := decodeModel(data, weightPath != "")
	if err != nil {
		return nil, fmt.Errorf("loading model %s: %w", modelPath, err)
	}
	if weightPath == "" {
		return m, nil
	}
	w, err := readFile(weightPath, "weights")
	if err != nil {
		return nil, err
	}
	if err := decodeWeights(w, m); err != nil {
		return nil, fmt.Errorf("loading weights %s: %w", weightPath, err)
	}
	return m, nil
}

func readFile(path, what string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", what, err)
	}
	return data, nil
}

// decodeModel reads a model file, or with weightsApart a definition file
// (or a model file whose weights another file replaces).
func decodeModel(data []byte, weightsApart bool) (nn.Module, error) {
	kind := byte(kindModel)
	if weightsApart && len(data) >= 8 && data[7] == kindDefinition {
		kind = kindDefinition
	}
	r, err := open(data, kind)
	if err != nil {
		if !weightsApart && len(data) >= 8 && data[7] == kindDefinition {
			return nil, errors.New("it holds only a model definition: pass its weight file as weight_path")
		}
		return nil, err
	}
	defBytes, err := r.bytes()
	if err != nil {
		return nil, err
	}
	var def nn.Definition
	if err := json.Unmarshal(defBytes, &def); err != nil {
		return nil, fmt.Errorf("the model definition is unreadable: %w", err)
	}
	m, err := buildChecked(def)
	if err != nil {
		return nil, err
	}
	if kind == kindDefinition {
		return m, r.end()
	}
	if err := r.readWeights(m); err != nil {
		return nil, err
	}
	return m, r.end()
}

// buildChecked is nn.Build, with a panic in a layer's constructor (a
// definition no Python call could have made) returned as an error.
func buildChecked(def nn.Definition) (m nn.Module, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the model definition is invalid: %v", r)
		}
	}()
	return nn.Build(def)
}

func decodeWeights(data []byte, m nn.Module) error {
	r, err := open(data, kindWeights)
	if err != nil {
		return err
	}
	if err := r.readWeights(m); err != nil {
		return err
	}
	return r.end()
}
