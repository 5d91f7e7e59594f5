package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// SpatialDropout is BigDL's SpatialDropout1D, 2D and 3D: in training it
// zeroes whole feature maps (each channel of each sample) with probability
// P and keeps the others unscaled; in evaluation it multiplies by 1 − P.
// Channels are the last dimension of 1D's (T, F) input and of NHWC input,
// else the one after the batch.
type SpatialDropout struct {
	Base
	P              float64
	dims           int // a sample's rank: 2 (1D), 3 (2D) or 4 (3D)
	channelsLast   bool
	format         string
	mask           []float32 // one value per (sample, channel)
	rng            *rng.MT   // nil: the global generator
	output, gradIn *tensor.Tensor
}

func init() {
	for _, c := range []struct {
		class string
		dims  int
	}{{"SpatialDropout1D", 2}, {"SpatialDropout2D", 3}, {"SpatialDropout3D", 4}} {
		Register(c.class, func(a *Args) (Module, error) {
			d := &SpatialDropout{Base: newBase(c.class), P: a.Float("init_p", 0.5), dims: c.dims}
			if d.P < 0 || d.P > 1 {
				return nil, fmt.Errorf("%s: argument init_p must be in [0, 1], got %v", c.class, d.P)
			}
			switch c.dims {
			case 2:
				d.channelsLast = true
			case 3:
				d.format = a.String("data_format", "NCHW")
				if d.format != "NCHW" && d.format != "NHWC" {
					return nil, fmt.Errorf("%s: argument data_format must be \"NCHW\" or \"NHWC\", got %q", c.class, d.format)
				}
				d.channelsLast = d.format == "NHWC"
			case 4:
				d.format = a.String("data_format", "NCHW")
				switch d.format {
				case "NCHW", "channel_first":
				case "NHWC", "channel_last":
					d.channelsLast = true
				default:
					return nil, fmt.Errorf("%s: argument data_format must be \"NCHW\" (channels first) or \"NHWC\" (channels last), got %q",
						c.class, d.format)
				}
			}
			return d, nil
		})
	}
}

func (d *SpatialDropout) Params() []*Param { return nil }
func (d *SpatialDropout) Reset()           {}

// UseRNG gives the layer a generator of its own (see Dropout.UseRNG).
func (d *SpatialDropout) UseRNG(g *rng.MT) { d.rng = g }
func (d *SpatialDropout) Config() map[string]any {
	c := map[string]any{"init_p": d.P}
	if d.format != "" {
		c["data_format"] = d.format
	}
	return c
}
func (d *SpatialDropout) String() string { return fmt.Sprintf("%s[%s](%v)", d.class, d.name, d.P) }

// layout returns the samples, the channels and the values per channel map
// of x (a sample, or a batch of them).
func (d *SpatialDropout) layout(x *tensor.Tensor) (n, ch, inner int) {
	if x.Dims() != d.dims && x.Dims() != d.dims+1 || x.Len() == 0 {
		shapeError(d, fmt.Sprintf("a sample of %d dimensions or a batch of them", d.dims), x.Shape)
	}
	s := x.Shape
	n = 1
	if x.Dims() == d.dims+1 {
		n, s = s[0], s[1:]
	}
	if d.channelsLast {
		ch = s[len(s)-1]
	} else {
		ch = s[0]
	}
	return n, ch, tensor.Volume(s) / ch
}

func (d *SpatialDropout) Forward(x *tensor.Tensor) *tensor.Tensor {
	n, ch, inner := d.layout(x)
	d.output = tensor.Ensure(d.output, x.Shape...)
	if !d.training {
		keep := float32(1 - d.P)
		for i, v := range x.Data {
			d.output.Data[i] = v * keep
		}
		return d.output
	}
	if cap(d.mask) < n*ch {
		d.mask = make([]float32, n*ch)
	}
	d.mask = d.mask[:n*ch]
	draw := func(g *rng.MT) {
		for i := range d.mask {
			d.mask[i] = 0
			if g.Uniform(0, 1) < 1-d.P { // BigDL's bernoulli(1 − p): keep
				d.mask[i] = 1
			}
		}
	}
	if d.rng != nil {
		draw(d.rng)
	} else {
		rng.Global.Do(draw)
	}
	d.apply(d.output.Data, x.Data, n, ch, inner)
	return d.output
}

// apply multiplies src by the mask, channel map by channel map, into dst.
func (d *SpatialDropout) apply(dst, src []float32, n, ch, inner int) {
	for s := 0; s < n; s++ {
		m := d.mask[s*ch : (s+1)*ch]
		a, b := src[s*ch*inner:(s+1)*ch*inner], dst[s*ch*inner:(s+1)*ch*inner]
		for i, v := range a {
			c := i / inner
			if d.channelsLast {
				c = i % ch
			}
			b[i] = v * m[c]
		}
	}
}

func (d *SpatialDropout) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	n, ch, inner := d.layout(x)
	if gy.Len() != x.Len() {
		shapeError(d, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	d.gradIn = tensor.Ensure(d.gradIn, x.Shape...)
	if !d.training {
		keep := float32(1 - d.P) // BigDL refuses; the gradient of its evaluation forward is this
		for i, g := range gy.Data {
			d.gradIn.Data[i] = g * keep
		}
		return d.gradIn
	}
	if len(d.mask) != n*ch {
		panic(fmt.Errorf("%s: backward of input shape %s needs a training forward of it first", d.String(), tensor.ShapeString(x.Shape)))
	}
	d.apply(d.gradIn.Data, gy.Data, n, ch, inner)
	return d.gradIn
}
