// Package serial reads and writes bigdl-go model files.
//
// A file is: the magic "BIGDLGO\x00"; the format version (uint32); the model
// definition as JSON (uint64 length, then the bytes); the parameter tensors
// (uint32 count, then for each its rank (uint32), dimensions (uint64 each)
// and values as little-endian float32); from version 2, the extra parameters
// (running statistics, see nn.AllExtraParams) in the same form; and a CRC-32
// (IEEE) of everything before it. All integers are little-endian. Files are written to a temporary
// name and renamed into place, so a crash never leaves a half-written model
// where a good one was.
package serial

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Magic opens every model file.
const Magic = "BIGDLGO\x00"

// Version is the format this package writes. It reads it and version 1,
// which had no extra parameters (a model loaded from one keeps its layers'
// initial running statistics).
const Version = 2

// Save writes m to path. Without overwrite an existing file is an error.
func Save(m nn.Module, path string, overwrite bool) error {
	if !overwrite {
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%s already exists: pass over_write=True to replace it", path)
		}
	}
	def, err := json.Marshal(nn.Describe(m))
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	var buf bytes.Buffer
	buf.WriteString(Magic)
	le := binary.LittleEndian
	buf.Write(le.AppendUint32(nil, Version))
	buf.Write(le.AppendUint64(nil, uint64(len(def))))
	buf.Write(def)
	var params []*tensor.Tensor
	for _, p := range nn.AllParams(m) {
		params = append(params, p.Value)
	}
	writeTensors(&buf, params)
	writeTensors(&buf, nn.AllExtraParams(m))
	buf.Write(le.AppendUint32(nil, crc32.ChecksumIEEE(buf.Bytes())))
	return writeAtomically(path, buf.Bytes())
}

func writeTensors(buf *bytes.Buffer, ts []*tensor.Tensor) {
	le := binary.LittleEndian
	buf.Write(le.AppendUint32(nil, uint32(len(ts))))
	for _, t := range ts {
		buf.Write(le.AppendUint32(nil, uint32(t.Dims())))
		for _, d := range t.Shape {
			buf.Write(le.AppendUint64(nil, uint64(d)))
		}
		for _, v := range t.Data {
			buf.Write(le.AppendUint32(nil, math.Float32bits(v)))
		}
	}
}

func writeAtomically(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("saving %s: %w", path, err)
	}
	return nil
}

// Load reads a model file written by Save.
func Load(path string) (nn.Module, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading model: %w", err)
	}
	m, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("loading model %s: %w", path, err)
	}
	return m, nil
}

// readTensors fills ts from r, refusing a count or shape that is not
// theirs; what names each tensor (or is empty) for errors, kind the list.
func readTensors(r *bytes.Reader, ts []*tensor.Tensor, what []string, kind string) error {
	le := binary.LittleEndian
	var count uint32
	if err := binary.Read(r, le, &count); err != nil {
		return errTruncated
	}
	if int(count) != len(ts) {
		return fmt.Errorf("the file holds %d tensors of %s but its model has %d", count, kind, len(ts))
	}
	for i, t := range ts {
		var rank uint32
		if err := binary.Read(r, le, &rank); err != nil || rank > 16 {
			return errTruncated
		}
		shape := make([]int, rank)
		for j := range shape {
			var d uint64
			if err := binary.Read(r, le, &d); err != nil {
				return errTruncated
			}
			shape[j] = int(d)
		}
		if !tensor.SameShape(shape, t.Shape) {
			return fmt.Errorf("tensor %d of %s (%s) has shape %s in the file, but the layer needs %s",
				i+1, kind, what[i], tensor.ShapeString(shape), tensor.ShapeString(t.Shape))
		}
		if err := binary.Read(r, le, t.Data); err != nil {
			return errTruncated
		}
	}
	return nil
}

var errTruncated = errors.New("the file is truncated")

func decode(data []byte) (nn.Module, error) {
	if len(data) < len(Magic) || string(data[:len(Magic)]) != Magic {
		return nil, errors.New("not a bigdl-go model file (it does not start with the bigdl-go magic bytes)")
	}
	r := bytes.NewReader(data[len(Magic):])
	le := binary.LittleEndian
	var version uint32
	if err := binary.Read(r, le, &version); err != nil {
		return nil, errTruncated
	}
	if version != 1 && version != Version {
		return nil, fmt.Errorf("written in model format version %d; this bigdl-go reads versions 1 to %d", version, Version)
	}
	if len(data) < len(Magic)+4+4 {
		return nil, errTruncated
	}
	body, sum := data[:len(data)-4], le.Uint32(data[len(data)-4:])
	var defLen uint64
	if err := binary.Read(r, le, &defLen); err != nil || defLen > uint64(r.Len()) {
		return nil, errTruncated
	}
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("the checksum does not match: the file is truncated or corrupted")
	}
	defBytes := make([]byte, defLen)
	io.ReadFull(r, defBytes)
	var def nn.Definition
	if err := json.Unmarshal(defBytes, &def); err != nil {
		return nil, fmt.Errorf("the model definition is unreadable: %w", err)
	}
	m, err := nn.Build(def)
	if err != nil {
		return nil, err
	}
	var params []*tensor.Tensor
	var what []string
	for _, p := range nn.AllParams(m) {
		params, what = append(params, p.Value), append(what, p.Name)
	}
	if err := readTensors(r, params, what, "parameters"); err != nil {
		return nil, err
	}
	if version >= 2 {
		extra := nn.AllExtraParams(m)
		what = what[:0]
		for range extra {
			what = append(what, "a running statistic")
		}
		if err := readTensors(r, extra, what, "extra parameters"); err != nil {
			return nil, err
		}
	}
	if r.Len() != 4 {
		return nil, fmt.Errorf("%d unexpected bytes after the tensors", r.Len()-4)
	}
	return m, nil
}
