// Package summary writes and reads TensorBoard event files: the
// events.out.tfevents.* files of TensorFlow's FileWriter, which BigDL's
// TrainSummary and ValidationSummary write and TensorBoard reads.
//
// A file is a sequence of records, each an Event protobuf framed as
//
//	uint64 length (little endian) | masked CRC-32C of the length |
//	length bytes of Event | masked CRC-32C of those bytes
//
// The few messages involved (Event, Summary, Summary.Value, HistogramProto,
// GraphDef, NodeDef) are encoded and decoded here by hand on the protobuf
// wire format: records are appended to buffers a Writer reuses, so a
// training loop that records every iteration allocates nothing.
package summary

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Protobuf wire types.
const (
	wireVarint = 0
	wire64     = 1
	wireBytes  = 2
	wire32     = 5
)

func appendVarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func appendKey(b []byte, field, wire int) []byte {
	return appendVarint(b, uint64(field)<<3|uint64(wire))
}

func appendDouble(b []byte, field int, v float64) []byte {
	return binary.LittleEndian.AppendUint64(appendKey(b, field, wire64), math.Float64bits(v))
}

func appendFloat(b []byte, field int, v float32) []byte {
	return binary.LittleEndian.AppendUint32(appendKey(b, field, wire32), math.Float32bits(v))
}

func appendInt(b []byte, field int, v int64) []byte {
	return appendVarint(appendKey(b, field, wireVarint), uint64(v))
}

func appendBytes(b []byte, field int, v []byte) []byte {
	return append(appendVarint(appendKey(b, field, wireBytes), uint64(len(v))), v...)
}

func appendString(b []byte, field int, v string) []byte {
	return append(appendVarint(appendKey(b, field, wireBytes), uint64(len(v))), v...)
}

// field is one decoded field: its number and wire type, and its value as
// an integer (varint, fixed) or bytes (length-delimited).
type field struct {
	num, wire int
	u         uint64
	data      []byte
}

var errMalformed = errors.New("malformed protobuf")

// nextField decodes the field at the start of b; it returns the rest.
func nextField(b []byte) (field, []byte, error) {
	key, n := binary.Uvarint(b)
	if n <= 0 {
		return field{}, nil, errMalformed
	}
	b = b[n:]
	f := field{num: int(key >> 3), wire: int(key & 7)}
	if key>>3 == 0 || key>>3 > math.MaxInt32 {
		return field{}, nil, fmt.Errorf("%w: field number %d", errMalformed, key>>3)
	}
	switch f.wire {
	case wireVarint:
		f.u, n = binary.Uvarint(b)
		if n <= 0 {
			return field{}, nil, errMalformed
		}
		return f, b[n:], nil
	case wire64:
		if len(b) < 8 {
			return field{}, nil, errMalformed
		}
		f.u = binary.LittleEndian.Uint64(b)
		return f, b[8:], nil
	case wire32:
		if len(b) < 4 {
			return field{}, nil, errMalformed
		}
		f.u = uint64(binary.LittleEndian.Uint32(b))
		return f, b[4:], nil
	case wireBytes:
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return field{}, nil, errMalformed
		}
		f.data = b[n : n+int(l)]
		return f, b[n+int(l):], nil
	}
	return field{}, nil, fmt.Errorf("%w: wire type %d", errMalformed, f.wire)
}

// eachField calls fn for every field of the message b.
func eachField(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// want checks a field has the wire type its schema gives it.
func (f field) want(wire int) error {
	if f.wire != wire {
		return fmt.Errorf("%w: field %d has wire type %d, want %d", errMalformed, f.num, f.wire, wire)
	}
	return nil
}

func (f field) double() float64 { return math.Float64frombits(f.u) }

// doubles decodes a repeated double field, packed (one length-delimited
// run) or not (one fixed64 per value), appending to dst.
func (f field) doubles(dst []float64) ([]float64, error) {
	switch f.wire {
	case wire64:
		return append(dst, f.double()), nil
	case wireBytes:
		if len(f.data)%8 != 0 {
			return dst, fmt.Errorf("%w: packed doubles of %d bytes", errMalformed, len(f.data))
		}
		for i := 0; i < len(f.data); i += 8 {
			dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(f.data[i:])))
		}
		return dst, nil
	}
	return dst, fmt.Errorf("%w: field %d: doubles with wire type %d", errMalformed, f.num, f.wire)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TensorFlow's masked CRC-32C, which keeps a CRC stored beside
// the data it covers from looking like data.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// appendRecord frames an encoded Event as one record.
func appendRecord(dst, event []byte) []byte {
	// The length's checksum is taken in place: a local array would escape
	// into the checksum's assembly and cost an allocation per record.
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(event)))
	dst = binary.LittleEndian.AppendUint32(dst, maskedCRC(dst[len(dst)-8:]))
	dst = append(dst, event...)
	return binary.LittleEndian.AppendUint32(dst, maskedCRC(event))
}

func appendFixed64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
