package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// SpatialZeroPadding pads the last two dimensions of (C, H, W) or
// (batch, C, H, W) input with zeros: Left and Right columns, Top and Bottom
// rows. A negative amount crops instead.
type SpatialZeroPadding struct {
	Base
	Left, Right, Top, Bottom int
	output, gradIn           *tensor.Tensor
}

func init() {
	Register("SpatialZeroPadding", func(a *Args) (Module, error) {
		return &SpatialZeroPadding{Base: newBase("SpatialZeroPadding"), Left: a.Int("pad_left", 0),
			Right: a.Int("pad_right", 0), Top: a.Int("pad_top", 0), Bottom: a.Int("pad_bottom", 0)}, nil
	})
}

func (z *SpatialZeroPadding) Params() []*Param { return nil }
func (z *SpatialZeroPadding) Reset()           {}
func (z *SpatialZeroPadding) Config() map[string]any {
	return map[string]any{"pad_left": z.Left, "pad_right": z.Right, "pad_top": z.Top, "pad_bottom": z.Bottom}
}
func (z *SpatialZeroPadding) String() string {
	return fmt.Sprintf("SpatialZeroPadding[%s](l=%d, r=%d, t=%d, b=%d)", z.name, z.Left, z.Right, z.Top, z.Bottom)
}

// sizes checks x and returns its planes, input and output sizes.
func (z *SpatialZeroPadding) sizes(x *tensor.Tensor) (planes, h, w, oh, ow int) {
	d := x.Dims()
	if d != 3 && d != 4 {
		shapeError(z, "(C, H, W) or (batch, C, H, W)", x.Shape)
	}
	h, w = x.Shape[d-2], x.Shape[d-1]
	oh, ow = h+z.Top+z.Bottom, w+z.Left+z.Right
	if oh < 1 || ow < 1 {
		panic(fmt.Errorf("%s: cropping input shape %s leaves nothing (%d x %d)", z.String(), tensor.ShapeString(x.Shape), oh, ow))
	}
	return x.Len() / max(1, h*w), h, w, oh, ow
}

// move copies between an input plane and an output plane the pixels they
// share: forward copies into the padded plane, backward out of it.
func (z *SpatialZeroPadding) move(in, out []float32, h, w, oh, ow int, forward bool) {
	x0, x1 := max(0, z.Left), min(ow, w+z.Left) // output columns that come from the input
	for oy := max(0, z.Top); oy < min(oh, h+z.Top); oy++ {
		o := out[oy*ow+x0 : oy*ow+x1]
		i := in[(oy-z.Top)*w+x0-z.Left : (oy-z.Top)*w+x1-z.Left]
		if forward {
			copy(o, i)
		} else {
			copy(i, o)
		}
	}
}

func (z *SpatialZeroPadding) Forward(x *tensor.Tensor) *tensor.Tensor {
	planes, h, w, oh, ow := z.sizes(x)
	if x.Dims() == 4 {
		z.output = tensor.Ensure(z.output, x.Shape[0], x.Shape[1], oh, ow)
	} else {
		z.output = tensor.Ensure(z.output, x.Shape[0], oh, ow)
	}
	clear(z.output.Data)
	for p := 0; p < planes; p++ {
		z.move(x.Data[p*h*w:(p+1)*h*w], z.output.Data[p*oh*ow:(p+1)*oh*ow], h, w, oh, ow, true)
	}
	return z.output
}

func (z *SpatialZeroPadding) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	planes, h, w, oh, ow := z.sizes(x)
	if gy.Len() != planes*oh*ow {
		shapeError(z, fmt.Sprintf("a gradient of %d values, shaped like the output", planes*oh*ow), gy.Shape)
	}
	z.gradIn = tensor.Ensure(z.gradIn, x.Shape...)
	clear(z.gradIn.Data)
	for p := 0; p < planes; p++ {
		z.move(z.gradIn.Data[p*h*w:(p+1)*h*w], gy.Data[p*oh*ow:(p+1)*oh*ow], h, w, oh, ow, false)
	}
	return z.gradIn
}
