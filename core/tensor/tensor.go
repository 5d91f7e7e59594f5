// Package tensor holds dense, contiguous, row-major float32 tensors.
//
// A Tensor is a shape and a flat slice. Several tensors may share one backing
// array (parameters are views into one flat vector so optimisers can update
// them in a single pass), so code that keeps a tensor must not assume it owns
// the storage unless it allocated it.
package tensor

import (
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/bigdl-go/bigdl-go/core/mem"
)

// Tensor is a dense row-major float32 array, or a table.
//
// A table (BigDL's Table: what ConcatTable returns, JoinTable takes, a
// multi-input model reads) is a Tensor whose Table is not nil: an ordered
// list of tensors or tables, with Shape and Data unused. Making the table a
// kind of Tensor rather than a second type keeps one activity type through
// layers, criteria and the training loop, so the tensor path stays as it was
// and a table layer reuses its output table between calls like any buffer.
type Tensor struct {
	Shape []int
	Data  []float32
	Table []*Tensor
}

// NewTable returns a table of the given elements (not copied).
func NewTable(elems ...*Tensor) *Tensor {
	if elems == nil {
		elems = []*Tensor{}
	}
	return &Tensor{Table: elems}
}

// IsTable reports whether t is a table.
func (t *Tensor) IsTable() bool { return t.Table != nil }

// Describe is t's shape, "(2, 3)", or for a table its elements' shapes in
// braces, "{(2, 3), {(2,), (4,)}}": what error messages print.
func (t *Tensor) Describe() string {
	if t == nil {
		return "nothing"
	}
	if !t.IsTable() {
		return ShapeString(t.Shape)
	}
	parts := make([]string, len(t.Table))
	for i, e := range t.Table {
		parts[i] = e.Describe()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Leaves lists the tensors of t depth first (t itself when it is a tensor).
func (t *Tensor) Leaves() []*Tensor { return t.AppendLeaves(nil) }

// AppendLeaves appends t's tensors, depth first, to dst.
func (t *Tensor) AppendLeaves(dst []*Tensor) []*Tensor {
	if !t.IsTable() {
		return append(dst, t)
	}
	for _, e := range t.Table {
		dst = e.AppendLeaves(dst)
	}
	return dst
}

// Nest rebuilds an activity from a nesting, as the C ABI describes tables:
// a number is the index of a tensor in leaves, a list is a table of the
// activities its elements describe (JSON-decoded: numbers are float64).
func Nest(nesting any, leaves []*Tensor) (*Tensor, error) {
	switch v := nesting.(type) {
	case float64:
		i := int(v)
		if float64(i) != v || i < 0 || i >= len(leaves) {
			return nil, fmt.Errorf("table nesting names tensor %v, but %d tensors were given", v, len(leaves))
		}
		return leaves[i], nil
	case int:
		return Nest(float64(v), leaves)
	case []any:
		t := NewTable(make([]*Tensor, len(v))...)
		for i, e := range v {
			x, err := Nest(e, leaves)
			if err != nil {
				return nil, err
			}
			t.Table[i] = x
		}
		return t, nil
	}
	return nil, fmt.Errorf("table nesting must be a tensor index or a list, got %v", nesting)
}

// EnsureTable returns t as a table of n elements, reusing its storage (the
// elements keep their buffers), so table layers do not allocate per call.
func EnsureTable(t *Tensor, n int) *Tensor {
	if t == nil {
		t = &Tensor{}
	}
	t.Shape, t.Data = nil, nil
	if cap(t.Table) < n {
		t.Table = append(t.Table[:cap(t.Table)], make([]*Tensor, n-cap(t.Table))...)
	}
	t.Table = t.Table[:n]
	return t
}

// New returns a zero tensor of the given shape. Its data comes from
// mem.Floats, so from 4 MiB it lies on huge pages on Linux, as numpy's does.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: mem.Floats(allocVolume(shape))}
}

// allocVolume is Volume for a shape about to be allocated: a product too
// large for a machine word panics as out of memory instead of wrapping
// round to a small or negative size.
func allocVolume(shape []int) int {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Errorf("tensor: shape %s has a negative dimension", ShapeString(shape)))
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64/4 {
			panic(&mem.OutOfMemoryError{})
		}
		n = lo
	}
	return int(n)
}

// FromData wraps data (not copied) with a shape; it panics if the sizes disagree.
func FromData(data []float32, shape ...int) *Tensor {
	if Volume(shape) != len(data) {
		panic(fmt.Sprintf("tensor: %d values cannot have shape %s", len(data), ShapeString(shape)))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Volume is the number of elements a tensor of this shape holds.
func Volume(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// ShapeString formats a shape as "(2, 3)".
func ShapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	if len(shape) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Dims is the number of dimensions.
func (t *Tensor) Dims() int { return len(t.Shape) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	if t.IsTable() {
		c := NewTable(make([]*Tensor, len(t.Table))...)
		for i, e := range t.Table {
			c.Table[i] = e.Clone()
		}
		return c
	}
	c := &Tensor{Shape: append([]int(nil), t.Shape...), Data: mem.Floats(len(t.Data))}
	copy(c.Data, t.Data)
	return c
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Ensure returns t resized to shape, reusing its storage when it is large
// enough, so layers can keep one output buffer across iterations without
// allocating. A nil t is allocated.
func Ensure(t *Tensor, shape ...int) *Tensor {
	n := Volume(shape)
	if t == nil {
		return New(shape...)
	}
	t.Table = nil
	if cap(t.Data) >= n {
		t.Data = t.Data[:n]
	} else {
		t.Data = mem.Floats(n)
	}
	if !SameShape(t.Shape, shape) {
		t.Shape = append(t.Shape[:0], shape...)
	}
	return t
}

// Reshaped returns a view of t with another shape of the same volume.
func (t *Tensor) Reshaped(shape ...int) *Tensor {
	return FromData(t.Data, shape...)
}

// Zero sets every element to 0.
func (t *Tensor) Zero() {
	clear(t.Data)
}

// Rows views t as a matrix: the first dimension is the batch and the rest are
// flattened. A 1-D tensor is one row.
func (t *Tensor) Rows() (rows, cols int) {
	if len(t.Shape) == 0 {
		return 1, 1
	}
	if len(t.Shape) == 1 {
		return 1, t.Shape[0]
	}
	return t.Shape[0], Volume(t.Shape[1:])
}

// Records is the number of records of a data set: its first dimension, or
// for a table its tensors' common first dimension (-1 if they differ, 0
// for a scalar or an empty table).
func (t *Tensor) Records() int {
	if !t.IsTable() {
		if t.Dims() == 0 {
			return 0
		}
		return t.Shape[0]
	}
	n := 0
	for i, e := range t.Table {
		r := e.Records()
		if i > 0 && r != n {
			return -1
		}
		n = r
	}
	return n
}

// Slice views records [lo, hi) of t (of each tensor of a table) without
// copying the values.
func (t *Tensor) Slice(lo, hi int) *Tensor {
	if t.IsTable() {
		s := NewTable(make([]*Tensor, len(t.Table))...)
		for i, e := range t.Table {
			s.Table[i] = e.Slice(lo, hi)
		}
		return s
	}
	per := t.Len() / max(t.Shape[0], 1)
	shape := append([]int{hi - lo}, t.Shape[1:]...)
	return &Tensor{Shape: shape, Data: t.Data[lo*per : hi*per]}
}
