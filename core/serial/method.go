package serial

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/optim"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// MethodFile is what an optim-method file keeps: the method's class and
// constructor arguments, its state (step count, buffers, schedule), and
// where the run that trained with it stood (nil before any run).
//
// Its body is a JSON header (uint64 length, then the bytes) and the
// state's buffers as 1-D tensors (as a model file's tensors).
type MethodFile struct {
	Class  string
	Args   map[string]any
	Method optim.Method
	Run    *optim.Position
}

type methodHeader struct {
	Class string          `json:"class"`
	Args  map[string]any  `json:"args"`
	T     int             `json:"t"`
	Extra map[string]any  `json:"extra,omitempty"`
	Run   *optim.Position `json:"run,omitempty"`
}

// EncodeMethod is f as the bytes of an optim-method file.
func EncodeMethod(f MethodFile) ([]byte, error) {
	if _, ok := f.Method.(*optim.PerModule); ok {
		return nil, errors.New("a dict of optim methods is saved method by method")
	}
	s := optim.StateOf(f.Method)
	h := methodHeader{Class: f.Class, Args: f.Args, T: s.T, Run: f.Run}
	if x, ok := f.Method.(optim.ExtraStater); ok {
		h.Extra = x.ExtraState()
	}
	js, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	buf := header(kindMethod)
	writeBytes(buf, js)
	bufs := make([]*tensor.Tensor, len(s.Bufs))
	for i, b := range s.Bufs {
		bufs[i] = tensor.FromData(b, len(b))
	}
	writeTensors(buf, bufs)
	return seal(buf), nil
}

// SaveMethod writes f to path.
func SaveMethod(f MethodFile, path string, overwrite bool) error {
	data, err := EncodeMethod(f)
	if err != nil {
		return fmt.Errorf("saving optim method %s: %w", path, err)
	}
	return WriteFileAtomic(path, data, overwrite)
}

// LoadMethod reads an optim-method file: a new method with the saved state.
func LoadMethod(path string) (MethodFile, error) {
	data, err := readFile(path, "optim method")
	if err != nil {
		return MethodFile{}, err
	}
	f, err := DecodeMethod(data)
	if err != nil {
		return MethodFile{}, fmt.Errorf("loading optim method %s: %w", path, err)
	}
	return f, nil
}

// DecodeMethod reads the bytes of an optim-method file.
func DecodeMethod(data []byte) (f MethodFile, err error) {
	r, err := open(data, kindMethod)
	if err != nil {
		return f, err
	}
	js, err := r.bytes()
	if err != nil {
		return f, err
	}
	var h methodHeader
	if err := json.Unmarshal(js, &h); err != nil {
		return f, fmt.Errorf("the method description is unreadable: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the method description is invalid: %v", p)
		}
	}()
	m, err := optim.NewMethod(h.Class, h.Args)
	if err != nil {
		return f, err
	}
	count, ok := r.uint32()
	if !ok || uint64(count) > uint64(len(r.data)) {
		return f, errTruncated
	}
	s := optim.MethodState{T: h.T, Bufs: [][]float32{}}
	for range count {
		shape, err := r.shape()
		if err != nil {
			return f, err
		}
		if len(shape) != 1 || shape[0] > len(r.data)/4 {
			return f, errTruncated
		}
		b := make([]float32, shape[0])
		if err := r.floats(b); err != nil {
			return f, err
		}
		s.Bufs = append(s.Bufs, b)
	}
	if err := r.end(); err != nil {
		return f, err
	}
	if h.T < 0 {
		return f, fmt.Errorf("the step count is %d", h.T)
	}
	if err := checkRun(h.Run); err != nil {
		return f, err
	}
	if err := optim.SetState(m, s); err != nil {
		return f, err
	}
	if x, ok := m.(optim.ExtraStater); ok && h.Extra != nil {
		if err := x.SetExtraState(h.Extra); err != nil {
			return f, err
		}
	}
	return MethodFile{Class: h.Class, Args: h.Args, Method: m, Run: h.Run}, nil
}

// maxShuffles bounds a task's saved shuffle count: a resumed task replays
// its shuffles, so a corrupt count must not make it replay for hours.
const maxShuffles = 1 << 20

// checkRun refuses a saved run position no run could have reached.
func checkRun(p *optim.Position) error {
	if p == nil {
		return nil
	}
	s := p.State
	if s.Epoch < 1 || s.Iteration < 0 || p.Records < 1 || p.Elapsed < 0 {
		return fmt.Errorf("the saved run position is invalid (epoch %d, iteration %d, %d records)",
			s.Epoch, s.Iteration, p.Records)
	}
	if p.Tasks == nil {
		// A local run shuffles once at its start and once per finished epoch.
		if p.Shuffles != s.Epoch || p.Cursor < 0 || p.Cursor >= p.Records || p.EpochRecords != p.Cursor {
			return fmt.Errorf("the saved run position is invalid (epoch %d, %d shuffles, record %d of %d)",
				s.Epoch, p.Shuffles, p.Cursor, p.Records)
		}
		return nil
	}
	for i, r := range p.Tasks.Resume {
		if r.Shuffles < 0 || r.Shuffles > maxShuffles || r.Cursor < 0 || r.EpochRecords < 0 || r.EpochRecords > p.Records {
			return fmt.Errorf("the saved position of task %d is invalid (%d shuffles, record %d)", i, r.Shuffles, r.Cursor)
		}
	}
	return nil
}
