package serial

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Every bigdl-go file opens with "BIGDLGO" and a byte naming its kind,
// then the format version (uint32), a body, and a CRC-32 (IEEE) of
// everything before it. All integers are little-endian. Version 2 added
// the layers' extra parameters (running statistics) after the weights of
// model and weight files; version 1 files still load.
const (
	kindModel      = 0   // definition and weights (Magic)
	kindDefinition = 'd' // saveModel's model file when the weights go to a file of their own
	kindWeights    = 'w' // saveModel's weight file
	kindMethod     = 'o' // an optim method's configuration and state
)

var kindNames = map[byte]string{
	kindModel:      "a bigdl-go model file",
	kindDefinition: "a bigdl-go model definition file (its weights are in a separate weight file)",
	kindWeights:    "a bigdl-go weight file",
	kindMethod:     "a bigdl-go optim-method file",
}

var le = binary.LittleEndian

var errTruncated = errors.New("the file is truncated")

// maxRank bounds a stored tensor's rank, so a corrupt file cannot ask for
// a huge shape slice.
const maxRank = 16

// header starts a file of kind.
func header(kind byte) *bytes.Buffer {
	var buf bytes.Buffer
	buf.WriteString(Magic[:7])
	buf.WriteByte(kind)
	buf.Write(le.AppendUint32(nil, Version))
	return &buf
}

// seal appends the checksum.
func seal(buf *bytes.Buffer) []byte {
	buf.Write(le.AppendUint32(nil, crc32.ChecksumIEEE(buf.Bytes())))
	return buf.Bytes()
}

// open checks data is a whole, undamaged bigdl-go file of kind want and
// returns a reader over its body.
func open(data []byte, want byte) (*reader, error) {
	if err := identify(data); err != nil {
		return nil, err
	}
	kind := data[7]
	if kind != want {
		return nil, fmt.Errorf("it is %s, not %s", kindNames[kind], kindNames[want])
	}
	if len(data) < len(Magic)+4 {
		return nil, errTruncated
	}
	v := le.Uint32(data[8:])
	if v < 1 || v > Version {
		return nil, fmt.Errorf("written in bigdl-go file format version %d; this bigdl-go reads versions 1 to %d", v, Version)
	}
	if len(data) < len(Magic)+8 {
		return nil, errTruncated
	}
	body, sum := data[:len(data)-4], le.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("the checksum does not match: the file is truncated or corrupted")
	}
	return &reader{data: body[len(Magic)+4:], version: v}, nil
}

// identify says what data is when it is not a bigdl-go file.
func identify(data []byte) error {
	if len(data) >= 8 && string(data[:7]) == Magic[:7] {
		if _, ok := kindNames[data[7]]; ok {
			return nil
		}
		return fmt.Errorf("a bigdl-go file of an unknown kind (%q): written by a newer bigdl-go?", data[7])
	}
	switch {
	case len(data) == 0:
		return errors.New("the file is empty")
	case bytes.HasPrefix(data, []byte{0xAC, 0xED, 0x00, 0x05}):
		return errors.New("it is a Java-serialised file (BigDL's Module.save / OptimMethod.save format), " +
			"which bigdl-go does not read: load it in BigDL, then rebuild the model here and set_weights")
	case isBigDLProtobuf(data):
		return errors.New("it is a BigDL protobuf model (BigDL's saveModel format), which bigdl-go does not read: " +
			"load it in BigDL, then rebuild the model here and set_weights")
	}
	return errors.New("it is not a bigdl-go file (no bigdl-go magic bytes) and not a format bigdl-go recognises")
}

// isBigDLProtobuf reports whether data parses as protobuf fields with a
// BigDL module type (field 7 of BigDLModule, "com.intel.analytics.bigdl...").
func isBigDLProtobuf(data []byte) bool {
	r := &reader{data: data}
	found := false
	for len(r.data) > 0 {
		key, ok := r.varint()
		if !ok {
			return false
		}
		switch key & 7 {
		case 0:
			if _, ok := r.varint(); !ok {
				return false
			}
		case 1:
			if r.take(8) == nil {
				return false
			}
		case 2:
			n, ok := r.varint()
			if !ok || n > uint64(len(r.data)) {
				return false
			}
			b := r.take(int(n))
			if key>>3 == 7 && bytes.HasPrefix(b, []byte("com.intel.analytics.bigdl")) {
				found = true
			}
		case 5:
			if r.take(4) == nil {
				return false
			}
		default:
			return false
		}
	}
	return found
}

// reader reads a file's body; every read is bounded by what is left.
type reader struct {
	data    []byte
	version uint32 // the file's format version; 0 for data that is not a bigdl-go file
}

func (r *reader) take(n int) []byte {
	if n < 0 || n > len(r.data) {
		r.data = r.data[len(r.data):]
		return nil
	}
	b := r.data[:n]
	r.data = r.data[n:]
	return b
}

func (r *reader) uint32() (uint32, bool) {
	b := r.take(4)
	if b == nil {
		return 0, false
	}
	return le.Uint32(b), true
}

func (r *reader) uint64() (uint64, bool) {
	b := r.take(8)
	if b == nil {
		return 0, false
	}
	return le.Uint64(b), true
}

func (r *reader) varint() (uint64, bool) {
	v, n := binary.Uvarint(r.data)
	if n <= 0 {
		return 0, false
	}
	r.data = r.data[n:]
	return v, true
}

// bytes reads a uint64 length and that many bytes.
func (r *reader) bytes() ([]byte, error) {
	n, ok := r.uint64()
	if !ok || n > uint64(len(r.data)) {
		return nil, errTruncated
	}
	return r.take(int(n)), nil
}

func (r *reader) end() error {
	if len(r.data) != 0 {
		return fmt.Errorf("%d unexpected bytes after the contents", len(r.data))
	}
	return nil
}

func writeBytes(buf *bytes.Buffer, b []byte) {
	buf.Write(le.AppendUint64(nil, uint64(len(b))))
	buf.Write(b)
}

// writeTensors writes a count, then each tensor's rank, dimensions and
// float32 values.
func writeTensors(buf *bytes.Buffer, ts []*tensor.Tensor) {
	buf.Write(le.AppendUint32(nil, uint32(len(ts))))
	for _, t := range ts {
		buf.Write(le.AppendUint32(nil, uint32(len(t.Shape))))
		for _, d := range t.Shape {
			buf.Write(le.AppendUint64(nil, uint64(d)))
		}
		b := buf.AvailableBuffer()
		for _, v := range t.Data {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
		buf.Write(b)
	}
}

// readTensors reads what writeTensors wrote into dst, whose shapes the
// stored ones must match; name(i) names tensor i in errors.
// what says what dst holds ("parameters").
func (r *reader) readTensors(dst []*tensor.Tensor, what string, name func(i int) string) error {
	count, ok := r.uint32()
	if !ok {
		return errTruncated
	}
	if int(count) != len(dst) {
		return fmt.Errorf("the file holds %d tensors of %s but the model has %d", count, what, len(dst))
	}
	for i, t := range dst {
		shape, err := r.shape()
		if err != nil {
			return err
		}
		if !tensor.SameShape(shape, t.Shape) {
			return fmt.Errorf("tensor %s has shape %s in the file, but the layer needs %s",
				name(i), tensor.ShapeString(shape), tensor.ShapeString(t.Shape))
		}
		if err := r.floats(t.Data); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) shape() ([]int, error) {
	rank, ok := r.uint32()
	if !ok || rank > maxRank {
		return nil, errTruncated
	}
	shape := make([]int, rank)
	for i := range shape {
		d, ok := r.uint64()
		if !ok || d > math.MaxInt32 {
			return nil, errTruncated
		}
		shape[i] = int(d)
	}
	return shape, nil
}

func (r *reader) floats(dst []float32) error {
	b := r.take(4 * len(dst))
	if b == nil && len(dst) > 0 {
		return errTruncated
	}
	for i := range dst {
		dst[i] = math.Float32frombits(le.Uint32(b[4*i:]))
	}
	return nil
}
