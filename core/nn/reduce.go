package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// reduce is Sum, Mean, Max or Min over one dimension.
type reduce struct {
	Base
	op      string // "sum", "max", "min"
	average bool
	squeeze bool
	dim     int
	batched func(x *tensor.Tensor) bool // whether dim skips a batch dimension
	config  map[string]any
	shape   []int
	argExt  []int // the index of each output's extreme (Max, Min)
	d       int
	output  *tensor.Tensor
	gradIn  *tensor.Tensor
}

func init() {
	sumLike := func(class string, average bool) Constructor {
		return func(a *Args) (Module, error) {
			dim, nd, sq := a.Int("dimension", 1), a.Int("n_input_dims", -1), a.Bool("squeeze", true)
			avg := average || a.Bool("size_average", false)
			config := map[string]any{"dimension": dim, "n_input_dims": nd, "squeeze": sq}
			if !average {
				config["size_average"] = avg
			}
			return &reduce{Base: newBase(class), op: "sum", average: avg, squeeze: sq, dim: dim, config: config,
				batched: func(x *tensor.Tensor) bool { return nd > 0 && x.Dims() == nd+1 }}, nil
		}
	}
	Register("Sum", sumLike("Sum", false))
	Register("Mean", sumLike("Mean", true))
	extreme := func(class, op string) Constructor {
		return func(a *Args) (Module, error) {
			dim, nd := a.Int("dim", 1), a.Int("num_input_dims", intMin)
			return &reduce{Base: newBase(class), op: op, dim: dim, config: map[string]any{"dim": dim, "num_input_dims": nd},
				batched: func(x *tensor.Tensor) bool { return nd != intMin && x.Dims() == nd+1 }}, nil
		}
	}
	Register("Max", extreme("Max", "max"))
	Register("Min", extreme("Min", "min"))
}

func (r *reduce) Params() []*Param       { return nil }
func (r *reduce) Reset()                 {}
func (r *reduce) Config() map[string]any { return r.config }
func (r *reduce) String() string         { return fmt.Sprintf("%s[%s](%d)", r.class, r.name, r.dim) }

// plan finds the dimension and the output shape, BigDL's: Sum and Mean
// drop the dimension when squeezing (a single value becomes a scalar); Max
// and Min drop it unless the input is 1-D.
func (r *reduce) plan(x *tensor.Tensor) {
	if x.Dims() == 0 {
		shapeError(r, "at least one dimension", x.Shape)
	}
	r.d = resolveDim(r, r.dim, r.dim > 0 && r.batched(x), x, 0)
	r.shape = append(r.shape[:0], x.Shape...)
	r.shape[r.d] = 1
	squeeze := r.squeeze
	if r.op != "sum" {
		squeeze = true
	}
	if squeeze && len(r.shape) > 1 {
		r.shape = append(r.shape[:r.d], r.shape[r.d+1:]...)
	}
	if r.op == "sum" && squeeze && tensor.Volume(r.shape) == 1 {
		r.shape = r.shape[:0]
	}
}

func (r *reduce) Forward(x *tensor.Tensor) *tensor.Tensor {
	r.plan(x)
	r.output = tensor.Ensure(r.output, r.shape...)
	outer, n, inner := around(x.Shape, r.d)
	y := r.output.Data
	if r.op == "sum" {
		clear(y)
		for j := 0; j < n; j++ {
			moveBlock(y, 1, 0, x.Data, n, j, outer, 1, inner, true)
		}
		if r.average {
			for i := range y {
				y[i] /= float32(n)
			}
		}
		return r.output
	}
	if cap(r.argExt) < len(y) {
		r.argExt = make([]int, len(y))
	}
	r.argExt = r.argExt[:len(y)]
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			best, at := x.Data[o*n*inner+i], 0
			for j := 1; j < n; j++ {
				v := x.Data[(o*n+j)*inner+i]
				if r.op == "max" && v > best || r.op == "min" && v < best {
					best, at = v, j
				}
			}
			y[o*inner+i], r.argExt[o*inner+i] = best, at
		}
	}
	return r.output
}

func (r *reduce) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	r.plan(x)
	if gy.Len() != tensor.Volume(r.shape) {
		shapeError(r, "a gradient of shape "+tensor.ShapeString(r.shape), gy.Shape)
	}
	r.gradIn = tensor.Ensure(r.gradIn, x.Shape...)
	g := r.gradIn.Data
	outer, n, inner := around(x.Shape, r.d)
	if r.op == "sum" {
		scale := float32(1)
		if r.average {
			scale = 1 / float32(n)
		}
		for o := 0; o < outer; o++ {
			for j := 0; j < n; j++ {
				for i := 0; i < inner; i++ {
					g[(o*n+j)*inner+i] = gy.Data[o*inner+i] * scale
				}
			}
		}
		return r.gradIn
	}
	clear(g)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			g[(o*n+r.argExt[o*inner+i])*inner+i] = gy.Data[o*inner+i]
		}
	}
	return r.gradIn
}

// Transpose swaps pairs of dimensions (1-based), in order.
type Transpose struct {
	Base
	Pairs          [][2]int
	perm, shape    []int
	strides, index []int
	output, gradIn *tensor.Tensor
}

func init() {
	Register("Transpose", func(a *Args) (Module, error) {
		flat := a.Ints("permutations")
		if a.Err() != nil || len(flat) == 0 || len(flat)%2 != 0 {
			return nil, fmt.Errorf("Transpose: argument permutations must be a non-empty list of (dim_a, dim_b) pairs")
		}
		t := &Transpose{Base: newBase("Transpose")}
		for i := 0; i < len(flat); i += 2 {
			if flat[i] < 1 || flat[i+1] < 1 {
				return nil, fmt.Errorf("Transpose: dimensions are 1-based positive integers, got (%d, %d)", flat[i], flat[i+1])
			}
			t.Pairs = append(t.Pairs, [2]int{flat[i], flat[i+1]})
		}
		return t, nil
	})
}

func (t *Transpose) Params() []*Param { return nil }
func (t *Transpose) Reset()           {}
func (t *Transpose) Config() map[string]any {
	flat := make([]int, 0, 2*len(t.Pairs))
	for _, p := range t.Pairs {
		flat = append(flat, p[0], p[1])
	}
	return map[string]any{"permutations": flat}
}
func (t *Transpose) String() string { return fmt.Sprintf("Transpose[%s](%v)", t.name, t.Pairs) }

// plan sets perm (output dimension i is input dimension perm[i]), the
// output shape and the input's strides.
func (t *Transpose) plan(x *tensor.Tensor) {
	nd := x.Dims()
	t.perm = t.perm[:0]
	for i := 0; i < nd; i++ {
		t.perm = append(t.perm, i)
	}
	for _, p := range t.Pairs {
		if p[0] > nd || p[1] > nd {
			panic(fmt.Errorf("%s: cannot swap dimensions %d and %d of an input of shape %s", t.String(), p[0], p[1], tensor.ShapeString(x.Shape)))
		}
		t.perm[p[0]-1], t.perm[p[1]-1] = t.perm[p[1]-1], t.perm[p[0]-1]
	}
	t.shape, t.strides = t.shape[:0], append(t.strides[:0], make([]int, nd)...)
	s := 1
	for i := nd - 1; i >= 0; i-- {
		t.strides[i] = s
		s *= x.Shape[i]
	}
	for _, p := range t.perm {
		t.shape = append(t.shape, x.Shape[p])
	}
}

// walk calls f(o, i) for each output position o and its input position i.
func (t *Transpose) walk(f func(o, i int)) {
	t.index = append(t.index[:0], make([]int, len(t.shape))...)
	in := 0
	for o := 0; o < tensor.Volume(t.shape); o++ {
		f(o, in)
		for k := len(t.shape) - 1; k >= 0; k-- {
			t.index[k]++
			in += t.strides[t.perm[k]]
			if t.index[k] < t.shape[k] {
				break
			}
			in -= t.index[k] * t.strides[t.perm[k]]
			t.index[k] = 0
		}
	}
}

func (t *Transpose) Forward(x *tensor.Tensor) *tensor.Tensor {
	t.plan(x)
	t.output = tensor.Ensure(t.output, t.shape...)
	y := t.output.Data
	t.walk(func(o, i int) { y[o] = x.Data[i] })
	return t.output
}

func (t *Transpose) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	t.plan(x)
	if gy.Len() != x.Len() {
		shapeError(t, "a gradient of shape "+tensor.ShapeString(t.shape), gy.Shape)
	}
	t.gradIn = tensor.Ensure(t.gradIn, x.Shape...)
	g := t.gradIn.Data
	t.walk(func(o, i int) { g[i] = gy.Data[o] })
	return t.gradIn
}
