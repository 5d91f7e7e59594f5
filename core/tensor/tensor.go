// Package tensor holds dense, contiguous, row-major float32 tensors.
//
// A Tensor is a shape and a flat slice. Several tensors may share one backing
// array (parameters are views into one flat vector so optimisers can update
// them in a single pass), so code that keeps a tensor must not assume it owns
// the storage unless it allocated it.
package tensor

import (
	"fmt"
	"strings"
)

// Tensor is a dense row-major float32 array.
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zero tensor of the given shape.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, Volume(shape))}
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
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
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
	if cap(t.Data) >= n {
		t.Data = t.Data[:n]
	} else {
		t.Data = make([]float32, n)
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
