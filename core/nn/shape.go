package nn

import (
	"fmt"
	"math"
	"os"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// intMin is BigDL's "not set" for num_input_dims (Python's INTMIN).
const intMin = math.MinInt32

// viewLayer changes only the shape of its input: its output shares the
// input's values (Squeeze, Unsqueeze, InferReshape, Contiguous, Echo).
type viewLayer struct {
	Base
	config   map[string]any
	desc     string
	outShape func(v *viewLayer, x *tensor.Tensor) []int // writes v.shape
	echo     bool
	shape    []int
	view     tensor.Tensor
	gradView tensor.Tensor
}

func (v *viewLayer) Params() []*Param       { return nil }
func (v *viewLayer) Reset()                 {}
func (v *viewLayer) Config() map[string]any { return v.config }
func (v *viewLayer) String() string         { return fmt.Sprintf("%s[%s]%s", v.class, v.name, v.desc) }

func (v *viewLayer) Forward(x *tensor.Tensor) *tensor.Tensor {
	if v.echo {
		fmt.Fprintf(os.Stdout, "%s : Activity size is %s\n", v.String(), x.Describe())
	}
	v.view = tensor.Tensor{Shape: v.outShape(v, x), Data: x.Data}
	return &v.view
}

func (v *viewLayer) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if v.echo {
		fmt.Fprintf(os.Stdout, "%s : Gradient size is %s\n", v.String(), gy.Describe())
	}
	return unview(v, &v.gradView, x, gy)
}

func init() {
	Register("Contiguous", func(a *Args) (Module, error) {
		return &viewLayer{Base: newBase("Contiguous"), config: map[string]any{},
			outShape: func(v *viewLayer, x *tensor.Tensor) []int { return x.Shape }}, nil
	})
	Register("Echo", func(a *Args) (Module, error) {
		return &viewLayer{Base: newBase("Echo"), config: map[string]any{}, echo: true,
			outShape: func(v *viewLayer, x *tensor.Tensor) []int { return x.Shape }}, nil
	})
	Register("Squeeze", func(a *Args) (Module, error) {
		dim, nd := a.Int("dim", 0), a.Int("num_input_dims", intMin)
		return &viewLayer{Base: newBase("Squeeze"), config: map[string]any{"dim": dim, "num_input_dims": nd},
			desc: fmt.Sprintf("(%d)", dim), outShape: func(v *viewLayer, x *tensor.Tensor) []int {
				return squeezeShape(v, x, dim, nd != intMin)
			}}, nil
	})
	Register("Unsqueeze", func(a *Args) (Module, error) {
		pos, nd := a.Int("pos", 1), a.Int("num_input_dims", intMin)
		return &viewLayer{Base: newBase("Unsqueeze"), config: map[string]any{"pos": pos, "num_input_dims": nd},
			desc: fmt.Sprintf("(%d)", pos), outShape: func(v *viewLayer, x *tensor.Tensor) []int {
				return unsqueezeShape(v, x, pos, nd)
			}}, nil
	})
	Register("InferReshape", func(a *Args) (Module, error) {
		size, batch := a.Ints("size"), a.Bool("batch_mode", false)
		infer := 0
		for _, s := range size {
			if s == -1 {
				infer++
			} else if s < 0 {
				return nil, fmt.Errorf("InferReshape: argument size must hold sizes, 0 (keep) or one -1 (infer), got %v", size)
			}
		}
		if len(size) == 0 || infer > 1 {
			return nil, fmt.Errorf("InferReshape: argument size must be a non-empty list with at most one -1, got %v", size)
		}
		return &viewLayer{Base: newBase("InferReshape"), config: map[string]any{"size": size, "batch_mode": batch},
			desc: fmt.Sprint(size), outShape: func(v *viewLayer, x *tensor.Tensor) []int {
				return inferShape(v, x, size, batch)
			}}, nil
	})
}

// squeezeShape removes dimension dim (1-based, negative from the end, one
// more when batched) if its size is 1; dim 0 removes every size-1
// dimension (but a batched input's batch dimension).
func squeezeShape(v *viewLayer, x *tensor.Tensor, dim int, batched bool) []int {
	v.shape = v.shape[:0]
	if dim == 0 {
		for i, s := range x.Shape {
			if s != 1 || batched && i == 0 {
				v.shape = append(v.shape, s)
			}
		}
		return v.shape
	}
	d := resolveDim(v, dim, batched, x, 0)
	for i, s := range x.Shape {
		if i != d || s != 1 {
			v.shape = append(v.shape, s)
		}
	}
	return v.shape
}

// unsqueezeShape inserts a size-1 dimension at pos (1-based; ≤ 0 counts from
// the end), after the batch dimensions an input has beyond numInputDims.
func unsqueezeShape(v *viewLayer, x *tensor.Tensor, pos, numInputDims int) []int {
	dim := pos
	if pos <= 0 {
		dim = x.Dims() + pos + 1
	}
	offset := 0
	if numInputDims != intMin {
		offset = x.Dims() - numInputDims
	}
	at := dim + offset
	if offset < 0 || at < 1 || at > x.Dims()+1 {
		panic(fmt.Errorf("%s: position %d is out of range for an input of shape %s", v.String(), pos, tensor.ShapeString(x.Shape)))
	}
	v.shape = append(append(append(v.shape[:0], x.Shape[:at-1]...), 1), x.Shape[at-1:]...)
	return v.shape
}

// inferShape is BigDL's InferReshape: 0 keeps the input's size at that
// position, -1 takes what is left; batch mode keeps the first dimension.
func inferShape(v *viewLayer, x *tensor.Tensor, size []int, batch bool) []int {
	v.shape = v.shape[:0]
	if batch {
		if x.Dims() == 0 {
			shapeError(v, "a batch dimension", x.Shape)
		}
		v.shape = append(v.shape, x.Shape[0])
	}
	known, infer := 1, -1
	for i, s := range size {
		switch s {
		case 0:
			if i >= x.Dims() {
				shapeError(v, fmt.Sprintf("at least %d dimensions (size %v keeps dimension %d)", i+1, size, i+1), x.Shape)
			}
			s = x.Shape[i]
		case -1:
			infer = len(v.shape)
			s = 1
		}
		known *= s
		v.shape = append(v.shape, s)
	}
	per := x.Len()
	if batch {
		per /= max(x.Shape[0], 1)
	}
	if infer >= 0 && known > 0 {
		v.shape[infer] = per / known
	}
	if tensor.Volume(v.shape) != x.Len() {
		shapeError(v, fmt.Sprintf("a size that %v can reshape", size), x.Shape)
	}
	return v.shape
}

// blockLayer is a layer whose output is a rearrangement of its input along
// one dimension (Select, Narrow, Reverse, Tile, Replicate, Padding); its
// forward and backward are given as functions of the dimension's split.
type blockLayer struct {
	Base
	config   map[string]any
	desc     string
	plan     func(b *blockLayer, x *tensor.Tensor) // sets d and the output shape in b.shape
	forward  func(b *blockLayer, y, x []float32, outer, n, inner int)
	backward func(b *blockLayer, gx, gy []float32, outer, n, inner int) // gx is zeroed first
	d        int
	shape    []int
	output   *tensor.Tensor
	gradIn   *tensor.Tensor
}

func (b *blockLayer) Params() []*Param       { return nil }
func (b *blockLayer) Reset()                 {}
func (b *blockLayer) Config() map[string]any { return b.config }
func (b *blockLayer) String() string         { return fmt.Sprintf("%s[%s]%s", b.class, b.name, b.desc) }

func (b *blockLayer) Forward(x *tensor.Tensor) *tensor.Tensor {
	b.plan(b, x)
	b.output = tensor.Ensure(b.output, b.shape...)
	outer, n, inner := around(x.Shape, b.d)
	b.forward(b, b.output.Data, x.Data, outer, n, inner)
	return b.output
}

func (b *blockLayer) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	b.plan(b, x)
	if tensor.Volume(b.shape) != gy.Len() {
		shapeError(b, "a gradient of shape "+tensor.ShapeString(b.shape), gy.Shape)
	}
	b.gradIn = tensor.Ensure(b.gradIn, x.Shape...)
	clear(b.gradIn.Data)
	outer, n, inner := around(x.Shape, b.d)
	b.backward(b, b.gradIn.Data, gy.Data, outer, n, inner)
	return b.gradIn
}

// withSize writes x's shape with dimension d resized to n (removed when n < 0)
// into b.shape.
func (b *blockLayer) withSize(x *tensor.Tensor, n int) {
	b.shape = append(b.shape[:0], x.Shape[:b.d]...)
	if n >= 0 {
		b.shape = append(b.shape, n)
	}
	b.shape = append(b.shape, x.Shape[b.d+1:]...)
}

func init() {
	Register("Select", func(a *Args) (Module, error) {
		dim, index := a.Int("dim", 0), a.Int("index", 0)
		if dim == 0 || index == 0 {
			return nil, fmt.Errorf("Select: arguments dim and index must be non-zero integers (1-based, negative from the end), got %d and %d", dim, index)
		}
		at := 0
		return &blockLayer{Base: newBase("Select"), config: map[string]any{"dim": dim, "index": index},
			desc: fmt.Sprintf("(%d, %d)", dim, index),
			plan: func(b *blockLayer, x *tensor.Tensor) {
				b.d = resolveDim(b, dim, false, x, 0)
				at = index - 1
				if index < 0 {
					at = x.Shape[b.d] + index
				}
				if at < 0 || at >= x.Shape[b.d] {
					panic(fmt.Errorf("%s: index %d is out of range for dimension %d of size %d (input shape %s)",
						b.String(), index, b.d+1, x.Shape[b.d], tensor.ShapeString(x.Shape)))
				}
				b.withSize(x, -1)
			},
			forward: func(b *blockLayer, y, x []float32, outer, n, inner int) {
				getBlock(y, x, outer, n, at, 1, inner, false)
			},
			backward: func(b *blockLayer, gx, gy []float32, outer, n, inner int) {
				putBlock(gx, gy, outer, n, at, 1, inner, false)
			}}, nil
	})
	Register("Narrow", func(a *Args) (Module, error) {
		dim, offset, length := a.Int("dimension", 0), a.Int("offset", 0), a.Int("length", 1)
		if dim == 0 || offset < 1 || length == 0 {
			return nil, fmt.Errorf("Narrow: dimension must be non-zero, offset positive and length non-zero, got %d, %d, %d", dim, offset, length)
		}
		n := 0
		return &blockLayer{Base: newBase("Narrow"), config: map[string]any{"dimension": dim, "offset": offset, "length": length},
			desc: fmt.Sprintf("(%d, %d, %d)", dim, offset, length),
			plan: func(b *blockLayer, x *tensor.Tensor) {
				b.d = resolveDim(b, dim, false, x, 0)
				size := x.Shape[b.d]
				n = length
				if length < 0 {
					n = size - offset + length + 2
				}
				if n < 1 || offset-1+n > size {
					panic(fmt.Errorf("%s: offset %d and length %d do not fit dimension %d of size %d (input shape %s)",
						b.String(), offset, length, b.d+1, size, tensor.ShapeString(x.Shape)))
				}
				b.withSize(x, n)
			},
			forward: func(b *blockLayer, y, x []float32, outer, size, inner int) {
				getBlock(y, x, outer, size, offset-1, n, inner, false)
			},
			backward: func(b *blockLayer, gx, gy []float32, outer, size, inner int) {
				putBlock(gx, gy, outer, size, offset-1, n, inner, false)
			}}, nil
	})
	Register("Reverse", func(a *Args) (Module, error) {
		dim := a.Int("dimension", 1)
		a.Bool("is_inplace", false) // accepted; the output never aliases the input
		reverse := func(dst, src []float32, outer, n, inner int) {
			for o := 0; o < outer; o++ {
				for j := 0; j < n; j++ {
					s := src[(o*n+j)*inner : (o*n+j+1)*inner]
					copy(dst[(o*n+n-1-j)*inner:], s)
				}
			}
		}
		return &blockLayer{Base: newBase("Reverse"), config: map[string]any{"dimension": dim},
			desc: fmt.Sprintf("(%d)", dim),
			plan: func(b *blockLayer, x *tensor.Tensor) {
				b.d = resolveDim(b, dim, false, x, 0)
				b.withSize(x, x.Shape[b.d])
			},
			forward: func(b *blockLayer, y, x []float32, outer, n, inner int) { reverse(y, x, outer, n, inner) },
			backward: func(b *blockLayer, gx, gy []float32, outer, n, inner int) {
				reverse(gx, gy, outer, n, inner)
			}}, nil
	})
	Register("Tile", func(a *Args) (Module, error) {
		dim, copies := a.Int("dim", 1), a.Int("copies", 2)
		if dim < 1 || copies < 1 {
			return nil, fmt.Errorf("Tile: argument dim must be a positive integer and copies at least 1, got %d and %d", dim, copies)
		}
		return &blockLayer{Base: newBase("Tile"), config: map[string]any{"dim": dim, "copies": copies},
			desc: fmt.Sprintf("(%d, %d)", dim, copies),
			plan: func(b *blockLayer, x *tensor.Tensor) {
				b.d = resolveDim(b, dim, false, x, 0)
				b.withSize(x, x.Shape[b.d]*copies)
			},
			forward: func(b *blockLayer, y, x []float32, outer, n, inner int) {
				for c := 0; c < copies; c++ {
					putBlock(y, x, outer, n*copies, c*n, n, inner, false)
				}
			},
			backward: func(b *blockLayer, gx, gy []float32, outer, n, inner int) {
				for c := 0; c < copies; c++ {
					getBlock(gx, gy, outer, n*copies, c*n, n, inner, true)
				}
			}}, nil
	})
	Register("Replicate", func(a *Args) (Module, error) {
		nf, dim, nDim := a.PositiveInt("n_features"), a.Int("dim", 1), a.Int("n_dim", math.MaxInt32)
		if dim < 1 {
			return nil, fmt.Errorf("Replicate: argument dim must be a positive integer, got %d", dim)
		}
		return &blockLayer{Base: newBase("Replicate"), config: map[string]any{"n_features": nf, "dim": dim, "n_dim": nDim},
			desc: fmt.Sprintf("(%d, %d)", nf, dim),
			plan: func(b *blockLayer, x *tensor.Tensor) {
				d := dim - 1
				if x.Dims() > nDim {
					d++
				}
				if d > x.Dims() {
					panic(fmt.Errorf("%s: dimension %d is out of range for an input of shape %s", b.String(), dim, tensor.ShapeString(x.Shape)))
				}
				// The new dimension goes before x's dimension d: around() sees
				// x as outer × 1 × inner there (d == Dims: a trailing 1).
				b.d = d
				b.shape = append(append(append(b.shape[:0], x.Shape[:d]...), nf), x.Shape[d:]...)
			},
			forward: func(b *blockLayer, y, x []float32, outer, n, inner int) {
				inner *= n
				for k := 0; k < nf; k++ {
					putBlock(y, x, outer, nf, k, 1, inner, false)
				}
			},
			backward: func(b *blockLayer, gx, gy []float32, outer, n, inner int) {
				inner *= n
				for k := 0; k < nf; k++ {
					getBlock(gx, gy, outer, nf, k, 1, inner, true)
				}
			}}, nil
	})
	Register("Padding", func(a *Args) (Module, error) {
		dim, pad, nInputDim := a.Int("dim", 0), a.Int("pad", 0), a.Int("n_input_dim", 0)
		value, nIndex := float32(a.Float("value", 0)), a.Int("n_index", 1)
		if dim < 1 || pad == 0 {
			return nil, fmt.Errorf("Padding: argument dim must be a positive integer and pad non-zero, got %d and %d", dim, pad)
		}
		p := pad
		if p < 0 {
			p = -p
		}
		at := 0 // the padding goes before position at (0-based) of the dimension
		return &blockLayer{Base: newBase("Padding"),
			config: map[string]any{"dim": dim, "pad": pad, "n_input_dim": nInputDim, "value": float64(value), "n_index": nIndex},
			desc:   fmt.Sprintf("(%d, %d, %d, %v, %d)", dim, pad, nInputDim, value, nIndex),
			plan: func(b *blockLayer, x *tensor.Tensor) {
				b.d = resolveDim(b, dim, x.Dims() != nInputDim, x, 0)
				size := x.Shape[b.d]
				at = nIndex - 1
				if pad > 0 {
					at = size - nIndex + 1
				}
				if at < 0 || at > size {
					panic(fmt.Errorf("%s: n_index %d is out of range for dimension %d of size %d (input shape %s)",
						b.String(), nIndex, b.d+1, size, tensor.ShapeString(x.Shape)))
				}
				b.withSize(x, size+p)
			},
			forward: func(b *blockLayer, y, x []float32, outer, n, inner int) {
				for i := range y {
					y[i] = value
				}
				moveBlock(y, n+p, 0, x, n, 0, outer, at, inner, false)
				moveBlock(y, n+p, at+p, x, n, at, outer, n-at, inner, false)
			},
			backward: func(b *blockLayer, gx, gy []float32, outer, n, inner int) {
				moveBlock(gx, n, 0, gy, n+p, 0, outer, at, inner, false)
				moveBlock(gx, n, at, gy, n+p, at+p, outer, n-at, inner, false)
			}}, nil
	})
}
