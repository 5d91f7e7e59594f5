package summary

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrCorrupt marks a record whose checksum or contents are wrong.
var ErrCorrupt = errors.New("corrupt event record")

// Parse decodes the records of an event file's contents. A record cut off
// at the end (the file of a run still writing it, or of one that died
// mid-write) ends the list without error: everything before it is
// returned. A record whose checksum fails, or whose Event does not decode,
// is an error that says where it starts; the events before it are
// returned with it.
func Parse(data []byte) ([]Event, error) {
	var events []Event
	off := 0
	for len(data)-off >= 12 {
		head := data[off : off+8]
		if binary.LittleEndian.Uint32(data[off+8:]) != maskedCRC(head) {
			return events, fmt.Errorf("%w at byte %d: the length's checksum fails", ErrCorrupt, off)
		}
		n := binary.LittleEndian.Uint64(head)
		if n > uint64(len(data)-off-12) || uint64(len(data)-off-12)-n < 4 {
			break // cut off
		}
		body := data[off+12 : off+12+int(n)]
		if binary.LittleEndian.Uint32(data[off+12+int(n):]) != maskedCRC(body) {
			return events, fmt.Errorf("%w at byte %d: the event's checksum fails", ErrCorrupt, off)
		}
		e, err := DecodeEvent(body)
		if err != nil {
			return events, fmt.Errorf("%w at byte %d: %w", ErrCorrupt, off, err)
		}
		events = append(events, e)
		off += 16 + int(n)
	}
	return events, nil
}

// ReadFile reads the events of one event file (see Parse).
func ReadFile(path string) ([]Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	events, err := Parse(data)
	if err != nil {
		err = fmt.Errorf("event file %s: %w", path, err)
	}
	return events, err
}

// EventFiles lists the event files in dir (names containing "tfevents",
// as TensorBoard finds them), in name order.
func EventFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read the log directory %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.Contains(e.Name(), "tfevents") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// Point is one recorded scalar: BigDL's (step, value, wall clock time).
type Point struct {
	Step     int64
	Value    float32
	WallTime float64
}

// ReadScalar returns every scalar recorded under tag in dir's event files,
// ordered by step (records of one step keep their order), as BigDL's
// readScalar does.
func ReadScalar(dir, tag string) ([]Point, error) {
	files, err := EventFiles(dir)
	if err != nil {
		return nil, err
	}
	var out []Point
	for _, f := range files {
		events, err := ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			for _, v := range e.Values {
				if v.HasScalar && v.Tag == tag {
					out = append(out, Point{e.Step, v.Scalar, e.WallTime})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	return out, nil
}
