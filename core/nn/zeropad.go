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
// Cropping3D also crops Front and Back of a third axis before the rows, on
// 5-D input: each plane is then a volume.
type SpatialZeroPadding struct {
	Base
	Left, Right, Top, Bottom int
	Front, Back              int
	crop                     bool // Cropping2D or Cropping3D
	volume                   bool // Cropping3D
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
		nhwc, err := channelsLast("Cropping2D", "data_format", format)
		if err != nil {
			return nil, err
		}
		return &SpatialZeroPadding{Base: newBase("Cropping2D"), Top: -hc[0], Bottom: -hc[1], Left: -wc[0], Right: -wc[1],
			crop: true, channelsLast: nhwc,
			config: map[string]any{"heightCrop": hc, "widthCrop": wc, "data_format": format}}, nil
	})
	// Cropping3D's three axes follow the batch (and channels, channel_first).
	Register("Cropping3D", func(a *Args) (Module, error) {
		c1, c2, c3, format := a.Ints("dim1Crop"), a.Ints("dim2Crop"), a.Ints("dim3Crop"), a.String("data_format", "channel_first")
		if len(c1) != 2 || len(c2) != 2 || len(c3) != 2 || min(c1[0], c1[1], c2[0], c2[1], c3[0], c3[1]) < 0 {
			return nil, fmt.Errorf("Cropping3D: dim1Crop, dim2Crop and dim3Crop must each be two amounts ≥ 0, got %v, %v and %v", c1, c2, c3)
		}
		if format != "channel_first" && format != "channel_last" {
			return nil, fmt.Errorf("Cropping3D: argument data_format must be \"channel_first\" or \"channel_last\", got %q", format)
		}
		return &SpatialZeroPadding{Base: newBase("Cropping3D"), Front: -c1[0], Back: -c1[1], Top: -c2[0], Bottom: -c2[1],
			Left: -c3[0], Right: -c3[1], crop: true, volume: true, channelsLast: format == "channel_last",
			config: map[string]any{"dim1Crop": c1, "dim2Crop": c2, "dim3Crop": c3, "data_format": format}}, nil
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
	if z.volume {
		return fmt.Sprintf("Cropping3D[%s](dim1: %d, %d; dim2Crop: %d, %d; dim3Crop: %d, %d)", z.name, -z.Front, -z.Back,
			-z.Top, -z.Bottom, -z.Left, -z.Right)
	}
	if z.crop {
		return fmt.Sprintf("Cropping2D[%s](heightCrop: %d, %d; widthCrop: %d, %d)", z.name, -z.Top, -z.Bottom, -z.Left, -z.Right)
	}
	return fmt.Sprintf("SpatialZeroPadding[%s](l=%d, r=%d, t=%d, b=%d)", z.name, z.Left, z.Right, z.Top, z.Bottom)
}

// frame is the geometry of one plane (a volume for Cropping3D) in and out:
// its depth, rows and row lengths (W·C channels last), and C (else 1).
type frame struct{ d, h, w, od, oh, ow, c int }

func (f *frame) in() int  { return f.d * f.h * f.w }
func (f *frame) out() int { return f.od * f.oh * f.ow }

// sizes checks x and returns its planes and their frame.
func (z *SpatialZeroPadding) sizes(x *tensor.Tensor) (planes int, f frame) {
	d := x.Dims()
	switch {
	case z.volume && d != 5:
		want := "(batch, C, D1, D2, D3)"
		if z.channelsLast {
			want = "(batch, D1, D2, D3, C)"
		}
		shapeError(z, want, x.Shape)
	case z.crop && !z.volume && d != 4:
		shapeError(z, "(batch, C, H, W) or, channels last, (batch, H, W, C)", x.Shape)
	case !z.crop && d != 3 && d != 4:
		shapeError(z, "(C, H, W) or (batch, C, H, W)", x.Shape)
	}
	f.c, f.d = 1, 1
	hd := d - 2
	if z.channelsLast {
		f.c, hd = x.Shape[d-1], d-3
	}
	if z.volume {
		f.d = x.Shape[hd-1]
	}
	f.h, f.w = x.Shape[hd], x.Shape[hd+1]
	f.od, f.oh, f.ow = f.d+z.Front+z.Back, f.h+z.Top+z.Bottom, f.w+z.Left+z.Right
	if f.od < 1 || f.oh < 1 || f.ow < 1 {
		panic(fmt.Errorf("%s: cropping input shape %s leaves nothing (%s)", z.String(), tensor.ShapeString(x.Shape),
			z.leftover(f)))
	}
	f.w, f.ow = f.w*f.c, f.ow*f.c
	return x.Len() / max(1, f.in()), f
}

// leftover describes what a crop leaves, in the layer's own terms.
func (z *SpatialZeroPadding) leftover(f frame) string {
	if z.volume {
		return fmt.Sprintf("%d x %d x %d", f.od, f.oh, f.ow)
	}
	return fmt.Sprintf("%d x %d", f.oh, f.ow)
}

func (z *SpatialZeroPadding) outShape(x *tensor.Tensor, f frame) *tensor.Tensor {
	s := x.Shape
	switch {
	case z.volume && z.channelsLast:
		return tensor.Ensure(z.output, s[0], f.od, f.oh, f.ow/f.c, f.c)
	case z.volume:
		return tensor.Ensure(z.output, s[0], s[1], f.od, f.oh, f.ow)
	case z.channelsLast:
		return tensor.Ensure(z.output, s[0], f.oh, f.ow/f.c, f.c)
	case x.Dims() == 4:
		return tensor.Ensure(z.output, s[0], s[1], f.oh, f.ow)
	}
	return tensor.Ensure(z.output, s[0], f.oh, f.ow)
}

// move copies between an input plane and an output plane the pixels they
// share: forward copies into the padded plane, backward out of it.
func (z *SpatialZeroPadding) move(in, out []float32, f frame, forward bool) {
	left := z.Left * f.c
	x0, x1 := max(0, left), min(f.ow, f.w+left) // output columns that come from the input
	for oz := max(0, z.Front); oz < min(f.od, f.d+z.Front); oz++ {
		iz := oz - z.Front
		for oy := max(0, z.Top); oy < min(f.oh, f.h+z.Top); oy++ {
			o := out[(oz*f.oh+oy)*f.ow+x0 : (oz*f.oh+oy)*f.ow+x1]
			i := in[(iz*f.h+oy-z.Top)*f.w+x0-left : (iz*f.h+oy-z.Top)*f.w+x1-left]
			if forward {
				copy(o, i)
			} else {
				copy(i, o)
			}
		}
	}
}

func (z *SpatialZeroPadding) Forward(x *tensor.Tensor) *tensor.Tensor {
	planes, f := z.sizes(x)
	z.output = z.outShape(x, f)
	clear(z.output.Data)
	in, out := f.in(), f.out()
	for p := 0; p < planes; p++ {
		z.move(x.Data[p*in:(p+1)*in], z.output.Data[p*out:(p+1)*out], f, true)
	}
	return z.output
}

func (z *SpatialZeroPadding) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	planes, f := z.sizes(x)
	in, out := f.in(), f.out()
	if gy.Len() != planes*out {
		shapeError(z, fmt.Sprintf("a gradient of %d values, shaped like the output", planes*out), gy.Shape)
	}
	z.gradIn = tensor.Ensure(z.gradIn, x.Shape...)
	clear(z.gradIn.Data)
	for p := 0; p < planes; p++ {
		z.move(z.gradIn.Data[p*in:(p+1)*in], gy.Data[p*out:(p+1)*out], f, false)
	}
	return z.gradIn
}
