package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// SpatialZeroPadding pads the last two dimensions of (C, H, W) or
// (batch, C, H, W) input with zeros: Left and Right columns, Top and Bottom
// rows. A negative amount crops instead.
//
// BigDL's Cropping2D is the same layer with the amounts negated, on 4-D
// input only; channels last (NHWC), a row of the plane is W·C values.
type SpatialZeroPadding struct {
	Base
	Left, Right, Top, Bottom int
	crop                     bool // Cropping2D
	channelsLast             bool
	config                   map[string]any
	output, gradIn           *tensor.Tensor
}

func init() {
	Register("SpatialZeroPadding", func(a *Args) (Module, error) {
		return &SpatialZeroPadding{Base: newBase("SpatialZeroPadding"), Left: a.Int("pad_left", 0),
			Right: a.Int("pad_right", 0), Top: a.Int("pad_top", 0), Bottom: a.Int("pad_bottom", 0)}, nil
	})
	Register("Cropping2D", func(a *Args) (Module, error) {
		hc, wc, format := a.Ints("heightCrop"), a.Ints("widthCrop"), a.String("data_format", "NCHW")
		if len(hc) != 2 || len(wc) != 2 || min(hc[0], hc[1], wc[0], wc[1]) < 0 {
			return nil, fmt.Errorf("Cropping2D: heightCrop and widthCrop must each be two amounts ≥ 0, got %v and %v", hc, wc)
		}
		if format != "NCHW" && format != "NHWC" {
			return nil, fmt.Errorf("Cropping2D: argument data_format must be \"NCHW\" or \"NHWC\", got %q", format)
		}
		return &SpatialZeroPadding{Base: newBase("Cropping2D"), Top: -hc[0], Bottom: -hc[1], Left: -wc[0], Right: -wc[1],
			crop: true, channelsLast: format == "NHWC",
			config: map[string]any{"heightCrop": hc, "widthCrop": wc, "data_format": format}}, nil
	})
}

func (z *SpatialZeroPadding) Params() []*Param { return nil }
func (z *SpatialZeroPadding) Reset()           {}
func (z *SpatialZeroPadding) Config() map[string]any {
	if z.crop {
		return z.config
	}
	return map[string]any{"pad_left": z.Left, "pad_right": z.Right, "pad_top": z.Top, "pad_bottom": z.Bottom}
}
func (z *SpatialZeroPadding) String() string {
	if z.crop {
		return fmt.Sprintf("Cropping2D[%s](heightCrop: %d, %d; widthCrop: %d, %d)", z.name, -z.Top, -z.Bottom, -z.Left, -z.Right)
	}
	return fmt.Sprintf("SpatialZeroPadding[%s](l=%d, r=%d, t=%d, b=%d)", z.name, z.Left, z.Right, z.Top, z.Bottom)
}

// sizes checks x and returns its planes, their rows and row lengths in and
// out, and the values per pixel (C channels last, else 1).
func (z *SpatialZeroPadding) sizes(x *tensor.Tensor) (planes, h, w, oh, ow, c int) {
	d := x.Dims()
	switch {
	case z.crop && d != 4:
		shapeError(z, "(batch, C, H, W) or, channels last, (batch, H, W, C)", x.Shape)
	case d != 3 && d != 4:
		shapeError(z, "(C, H, W) or (batch, C, H, W)", x.Shape)
	}
	c, hd := 1, d-2
	if z.channelsLast {
		c, hd = x.Shape[3], 1
	}
	h, w = x.Shape[hd], x.Shape[hd+1]
	oh, ow = h+z.Top+z.Bottom, w+z.Left+z.Right
	if oh < 1 || ow < 1 {
		panic(fmt.Errorf("%s: cropping input shape %s leaves nothing (%d x %d)", z.String(), tensor.ShapeString(x.Shape), oh, ow))
	}
	return x.Len() / max(1, h*w*c), h, w * c, oh, ow * c, c
}

func (z *SpatialZeroPadding) outShape(x *tensor.Tensor, oh, ow, c int) *tensor.Tensor {
	switch {
	case z.channelsLast:
		return tensor.Ensure(z.output, x.Shape[0], oh, ow/c, c)
	case x.Dims() == 4:
		return tensor.Ensure(z.output, x.Shape[0], x.Shape[1], oh, ow)
	}
	return tensor.Ensure(z.output, x.Shape[0], oh, ow)
}

// move copies between an input plane and an output plane the pixels they
// share: forward copies into the padded plane, backward out of it.
func (z *SpatialZeroPadding) move(in, out []float32, h, w, oh, ow, c int, forward bool) {
	left := z.Left * c
	x0, x1 := max(0, left), min(ow, w+left) // output columns that come from the input
	for oy := max(0, z.Top); oy < min(oh, h+z.Top); oy++ {
		o := out[oy*ow+x0 : oy*ow+x1]
		i := in[(oy-z.Top)*w+x0-left : (oy-z.Top)*w+x1-left]
		if forward {
			copy(o, i)
		} else {
			copy(i, o)
		}
	}
}

func (z *SpatialZeroPadding) Forward(x *tensor.Tensor) *tensor.Tensor {
	planes, h, w, oh, ow, c := z.sizes(x)
	z.output = z.outShape(x, oh, ow, c)
	clear(z.output.Data)
	for p := 0; p < planes; p++ {
		z.move(x.Data[p*h*w:(p+1)*h*w], z.output.Data[p*oh*ow:(p+1)*oh*ow], h, w, oh, ow, c, true)
	}
	return z.output
}

func (z *SpatialZeroPadding) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	planes, h, w, oh, ow, c := z.sizes(x)
	if gy.Len() != planes*oh*ow {
		shapeError(z, fmt.Sprintf("a gradient of %d values, shaped like the output", planes*oh*ow), gy.Shape)
	}
	z.gradIn = tensor.Ensure(z.gradIn, x.Shape...)
	clear(z.gradIn.Data)
	for p := 0; p < planes; p++ {
		z.move(z.gradIn.Data[p*h*w:(p+1)*h*w], gy.Data[p*oh*ow:(p+1)*oh*ow], h, w, oh, ow, c, false)
	}
	return z.gradIn
}
