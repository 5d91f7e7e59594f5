package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Reshape gives each sample the shape Size. BatchMode says whether the first
// input dimension is a batch: "auto" (BigDL's None) decides by element count,
// "batch" always keeps it, "none" never does.
type Reshape struct {
	Base
	Size      []int
	BatchMode string
	view      tensor.Tensor
	gradView  tensor.Tensor
}

// View reshapes to Sizes, one of which may be -1 (inferred). With
// NumInputDims > 0, an input with more dimensions than that has a leading
// batch dimension that is kept.
type View struct {
	Base
	Sizes        []int
	NumInputDims int
	view         tensor.Tensor
	gradView     tensor.Tensor
}

func init() {
	Register("Reshape", func(a *Args) (Module, error) {
		size := a.Ints("size")
		if len(size) == 0 {
			return nil, fmt.Errorf("Reshape: argument size must be a non-empty list of positive integers")
		}
		for _, s := range size {
			if s < 1 {
				return nil, fmt.Errorf("Reshape: argument size must hold positive integers, got %v", size)
			}
		}
		mode := "auto"
		if a.Has("batch_mode") {
			mode = "none"
			if a.Bool("batch_mode", false) {
				mode = "batch"
			}
		}
		return &Reshape{Base: newBase("Reshape"), Size: size, BatchMode: mode}, nil
	})
	Register("View", func(a *Args) (Module, error) {
		sizes := a.Ints("sizes")
		if len(sizes) == 0 {
			return nil, fmt.Errorf("View: argument sizes must be a non-empty list of integers")
		}
		inferred := 0
		for _, s := range sizes {
			if s == -1 {
				inferred++
			} else if s < 1 {
				return nil, fmt.Errorf("View: argument sizes must hold positive integers or one -1, got %v", sizes)
			}
		}
		if inferred > 1 {
			return nil, fmt.Errorf("View: argument sizes may hold at most one -1, got %v", sizes)
		}
		nd := a.Int("num_input_dims", 0)
		if nd < 0 {
			return nil, fmt.Errorf("View: argument num_input_dims must be ≥ 0, got %d", nd)
		}
		return &View{Base: newBase("View"), Sizes: sizes, NumInputDims: nd}, nil
	})
}

func (r *Reshape) Params() []*Param { return nil }
func (r *Reshape) Reset()           {}
func (r *Reshape) Config() map[string]any {
	c := map[string]any{"size": r.Size}
	switch r.BatchMode {
	case "batch":
		c["batch_mode"] = true
	case "none":
		c["batch_mode"] = false
	}
	return c
}
func (r *Reshape) String() string { return fmt.Sprintf("Reshape[%s](%v)", r.name, r.Size) }

func (r *Reshape) outShape(x *tensor.Tensor) []int {
	per := tensor.Volume(r.Size)
	batch := r.BatchMode == "batch" || (r.BatchMode == "auto" && x.Len() != per)
	if batch {
		if x.Dims() < 1 || x.Shape[0] == 0 || x.Len() != x.Shape[0]*per {
			shapeError(r, fmt.Sprintf("(batch, ...) with %d values per sample", per), x.Shape)
		}
		return append([]int{x.Shape[0]}, r.Size...)
	}
	if x.Len() != per {
		shapeError(r, fmt.Sprintf("%d values", per), x.Shape)
	}
	return r.Size
}

func (r *Reshape) Forward(x *tensor.Tensor) *tensor.Tensor {
	r.view = tensor.Tensor{Shape: r.outShape(x), Data: x.Data}
	return &r.view
}

func (r *Reshape) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if gy.Len() != x.Len() {
		shapeError(r, "a gradient of "+fmt.Sprint(x.Len())+" values", gy.Shape)
	}
	r.gradView = tensor.Tensor{Shape: x.Shape, Data: gy.Data}
	return &r.gradView
}

func (v *View) Params() []*Param { return nil }
func (v *View) Reset()           {}
func (v *View) Config() map[string]any {
	return map[string]any{"sizes": v.Sizes, "num_input_dims": v.NumInputDims}
}
func (v *View) String() string { return fmt.Sprintf("View[%s](%v)", v.name, v.Sizes) }

func (v *View) outShape(x *tensor.Tensor) []int {
	known, infer := 1, -1
	for i, s := range v.Sizes {
		if s == -1 {
			infer = i
		} else {
			known *= s
		}
	}
	total, batch := x.Len(), 0
	switch {
	case v.NumInputDims > 0 && x.Dims() > v.NumInputDims:
		batch = x.Shape[0]
	case infer < 0 && known != total && known > 0 && total%known == 0:
		// More values than one view holds: the leading dimension is a batch.
		batch = total / known
	}
	per := total
	if batch > 0 {
		per = total / batch
	}
	out := append([]int(nil), v.Sizes...)
	if infer >= 0 {
		if known == 0 || per%known != 0 {
			shapeError(v, fmt.Sprintf("a size divisible by %d", known), x.Shape)
		}
		out[infer] = per / known
	} else if known != per {
		shapeError(v, fmt.Sprintf("%d values per sample", known), x.Shape)
	}
	if batch > 0 {
		out = append([]int{batch}, out...)
	}
	return out
}

func (v *View) Forward(x *tensor.Tensor) *tensor.Tensor {
	v.view = tensor.Tensor{Shape: v.outShape(x), Data: x.Data}
	return &v.view
}

func (v *View) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if gy.Len() != x.Len() {
		shapeError(v, "a gradient of "+fmt.Sprint(x.Len())+" values", gy.Shape)
	}
	v.gradView = tensor.Tensor{Shape: x.Shape, Data: gy.Data}
	return &v.gradView
}
