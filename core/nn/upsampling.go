package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// UpSampling repeats each pixel of a batch of images SH times down and SW
// times across (nearest neighbour): BigDL's UpSampling2D on (N, C, H, W)
// or, channels last, (N, H, W, C) input, and UpSampling1D, which repeats
// each frame of (N, T, F) input, an image T high, 1 wide, F channels last.
// UpSampling3D also repeats each voxel SD times in depth, on (N, C, D, H, W)
// input; the others are images of depth 1.
type UpSampling struct {
	Base
	SD, SH, SW     int
	channelsLast   bool
	dims           int
	config         map[string]any
	desc           string
	shape          []int
	output, gradIn *tensor.Tensor
}

func init() {
	Register("UpSampling1D", func(a *Args) (Module, error) {
		l := a.PositiveInt("length")
		if err := a.Err(); err != nil {
			return nil, err
		}
		return &UpSampling{Base: newBase("UpSampling1D"), SD: 1, SH: l, SW: 1, channelsLast: true, dims: 3,
			config: map[string]any{"length": l}, desc: fmt.Sprintf("(%d)", l)}, nil
	})
	Register("UpSampling2D", func(a *Args) (Module, error) {
		size, format := a.Ints("size"), a.String("data_format", "nchw")
		if len(size) != 2 || size[0] < 1 || size[1] < 1 {
			return nil, fmt.Errorf("UpSampling2D: argument size must be two positive integers (height, width), got %v", size)
		}
		u := &UpSampling{Base: newBase("UpSampling2D"), SD: 1, SH: size[0], SW: size[1], dims: 4,
			config: map[string]any{"size": size, "data_format": format}, desc: fmt.Sprintf("(%d, %d)", size[0], size[1])}
		switch format {
		case "nchw", "NCHW":
		case "nhwc", "NHWC":
			u.channelsLast = true
		default:
			return nil, fmt.Errorf("UpSampling2D: argument data_format must be \"nchw\" or \"nhwc\", got %q", format)
		}
		return u, nil
	})
	Register("UpSampling3D", func(a *Args) (Module, error) {
		size := a.Ints("size")
		if len(size) != 3 || min(size[0], size[1], size[2]) < 1 {
			return nil, fmt.Errorf("UpSampling3D: argument size must be three positive integers (depth, height, width), got %v", size)
		}
		return &UpSampling{Base: newBase("UpSampling3D"), SD: size[0], SH: size[1], SW: size[2], dims: 5,
			config: map[string]any{"size": size}, desc: fmt.Sprintf("(%d, %d, %d)", size[0], size[1], size[2])}, nil
	})
}

func (u *UpSampling) Params() []*Param       { return nil }
func (u *UpSampling) Reset()                 {}
func (u *UpSampling) Config() map[string]any { return u.config }
func (u *UpSampling) String() string         { return fmt.Sprintf("%s[%s]%s", u.class, u.name, u.desc) }

// geometry returns the images, their depth, height, width and channels.
func (u *UpSampling) geometry(x *tensor.Tensor) (n, d, h, w, c int) {
	if x.Dims() != u.dims {
		shapeError(u, map[int]string{3: "(batch, T, F)", 4: "(batch, C, H, W) or, channels last, (batch, H, W, C)",
			5: "(batch, C, D, H, W)"}[u.dims], x.Shape)
	}
	s := x.Shape
	switch {
	case u.dims == 3:
		return s[0], 1, s[1], 1, s[2]
	case u.dims == 5:
		return s[0], s[2], s[3], s[4], s[1]
	case u.channelsLast:
		return s[0], 1, s[1], s[2], s[3]
	}
	return s[0], 1, s[2], s[3], s[1]
}

func (u *UpSampling) outShape(x *tensor.Tensor) []int {
	u.shape = append(u.shape[:0], x.Shape...)
	switch {
	case u.dims == 3:
		u.shape[1] *= u.SH
	case u.dims == 5:
		u.shape[2], u.shape[3], u.shape[4] = u.shape[2]*u.SD, u.shape[3]*u.SH, u.shape[4]*u.SW
	case u.channelsLast:
		u.shape[1], u.shape[2] = u.shape[1]*u.SH, u.shape[2]*u.SW
	default:
		u.shape[2], u.shape[3] = u.shape[2]*u.SH, u.shape[3]*u.SW
	}
	return u.shape
}

// pixels calls f(output index, input index, run) for every run of values
// copied from the input to the output: a channel vector channels last, one
// value channels first.
func (u *UpSampling) pixels(n, d, h, w, c int, f func(o, i, run int)) {
	od, oh, ow := d*u.SD, h*u.SH, w*u.SW
	if u.channelsLast {
		for s := 0; s < n; s++ {
			for y := 0; y < oh; y++ {
				for x := 0; x < ow; x++ {
					f(((s*oh+y)*ow+x)*c, ((s*h+y/u.SH)*w+x/u.SW)*c, c)
				}
			}
		}
		return
	}
	for p := 0; p < n*c; p++ {
		for z := 0; z < od; z++ {
			for y := 0; y < oh; y++ {
				for x := 0; x < ow; x++ {
					f(((p*od+z)*oh+y)*ow+x, ((p*d+z/u.SD)*h+y/u.SH)*w+x/u.SW, 1)
				}
			}
		}
	}
}

func (u *UpSampling) Forward(x *tensor.Tensor) *tensor.Tensor {
	n, d, h, w, c := u.geometry(x)
	u.output = tensor.Ensure(u.output, u.outShape(x)...)
	y := u.output.Data
	u.pixels(n, d, h, w, c, func(o, i, run int) { copy(y[o:o+run], x.Data[i:i+run]) })
	return u.output
}

func (u *UpSampling) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	n, d, h, w, c := u.geometry(x)
	if gy.Len() != x.Len()*u.SD*u.SH*u.SW {
		shapeError(u, "a gradient shaped like the output "+tensor.ShapeString(u.outShape(x)), gy.Shape)
	}
	u.gradIn = tensor.Ensure(u.gradIn, x.Shape...)
	g := u.gradIn.Data
	clear(g)
	u.pixels(n, d, h, w, c, func(o, i, run int) {
		for k := 0; k < run; k++ {
			g[i+k] += gy.Data[o+k]
		}
	})
	return u.gradIn
}
