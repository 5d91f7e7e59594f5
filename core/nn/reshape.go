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
	shape     []int
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
	shape        []int
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
	// BigDL's rule: without batch_mode, the input is one sample only when it
	// holds exactly one sample's values and its first dimension is not 1.
	batch := r.BatchMode == "batch" ||
		(r.BatchMode == "auto" && (x.Len() != per || x.Dims() > 0 && x.Shape[0] == 1))
	if batch {
		if x.Dims() < 1 || x.Shape[0] == 0 || x.Len() != x.Shape[0]*per {
			shapeError(r, fmt.Sprintf("(batch, ...) with %d values per sample", per), x.Shape)
		}
		r.shape = append(append(r.shape[:0], x.Shape[0]), r.Size...) // reused: no allocation per call
		return r.shape
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

func (r *Reshape) Backward(x, gy *tensor.Tensor) *tensor.Tensor { return unview(r, &r.gradView, x, gy) }

func (v *View) Params() []*Param { return nil }
func (v *View) Reset()           {}
func (v *View) Config() map[string]any {
	return map[string]any{"sizes": v.Sizes, "num_input_dims": v.NumInputDims}
}
func (v *View) String() string { return fmt.Sprintf("View[%s](%v)", v.name, v.Sizes) }

// outShape follows Torch's View: the last NumInputDims dimensions (all, when
// 0) hold whole views and the rest are batch; without -1, extra whole views
// in those dimensions add to the batch too.
func (v *View) outShape(x *tensor.Tensor) []int {
	known, infer := 1, -1
	for i, s := range v.Sizes {
		if s == -1 {
			infer = i
		} else {
			known *= s
		}
	}
	inner := x.Dims()
	if v.NumInputDims > 0 && v.NumInputDims < inner {
		inner = v.NumInputDims
	}
	perInput := tensor.Volume(x.Shape[x.Dims()-inner:])
	if known == 0 || perInput%known != 0 {
		shapeError(v, fmt.Sprintf("a multiple of %d values per sample", known), x.Shape)
	}
	batch := perInput / known
	if infer >= 0 {
		batch = 1
	}
	batch *= tensor.Volume(x.Shape[:x.Dims()-inner])
	// The shape is built in a buffer the layer keeps: no allocation per call.
	v.shape = append(v.shape[:0], batch)
	v.shape = append(v.shape, v.Sizes...)
	if infer >= 0 {
		v.shape[1+infer] = x.Len() / max(batch, 1) / known
	}
	if batch == 1 && (v.NumInputDims == 0 || x.Dims() <= v.NumInputDims) {
		return v.shape[1:]
	}
	return v.shape
}

func (v *View) Forward(x *tensor.Tensor) *tensor.Tensor {
	v.view = tensor.Tensor{Shape: v.outShape(x), Data: x.Data}
	return &v.view
}

func (v *View) Backward(x, gy *tensor.Tensor) *tensor.Tensor { return unview(v, &v.gradView, x, gy) }

// unview is the backward of a reshaping layer m: the gradient, viewed in the
// input's shape (into the layer's own header, so nothing is allocated).
func unview(m Module, into *tensor.Tensor, x, gy *tensor.Tensor) *tensor.Tensor {
	if gy.Len() != x.Len() {
		shapeError(m, "a gradient of "+fmt.Sprint(x.Len())+" values", gy.Shape)
	}
	*into = tensor.Tensor{Shape: x.Shape, Data: gy.Data}
	return into
}
