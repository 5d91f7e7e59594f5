package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Dropout zeroes each element with probability P in training mode and, with
// Scale, multiplies the survivors by 1/(1-P); in evaluation mode it is the
// identity.
type Dropout struct {
	Base
	P       float64
	InPlace bool
	Scale   bool
	mask    []float32
	rng     *rng.MT // nil: the global generator
	output  *tensor.Tensor
	gradIn  *tensor.Tensor
}

func init() {
	Register("Dropout", func(a *Args) (Module, error) {
		p := a.Float("init_p", 0.5)
		if p < 0 || p >= 1 {
			return nil, fmt.Errorf("Dropout: argument init_p must be in [0, 1), got %v", p)
		}
		return &Dropout{Base: newBase("Dropout"), P: p, InPlace: a.Bool("inplace", false), Scale: a.Bool("scale", true)}, nil
	})
}

func (d *Dropout) Params() []*Param { return nil }

// UseRNG gives the layer a generator of its own: training workers each draw
// masks from their own stream, so a seeded run is reproducible whatever
// order the workers run in.
func (d *Dropout) UseRNG(g *rng.MT) { d.rng = g }
func (d *Dropout) Reset()           {}
func (d *Dropout) Config() map[string]any {
	return map[string]any{"init_p": d.P, "inplace": d.InPlace, "scale": d.Scale}
}
func (d *Dropout) String() string { return fmt.Sprintf("Dropout[%s](%v)", d.name, d.P) }

func (d *Dropout) Forward(x *tensor.Tensor) *tensor.Tensor {
	d.output = tensor.Ensure(d.output, x.Shape...)
	if !d.training || d.P == 0 {
		copy(d.output.Data, x.Data)
		return d.output
	}
	if cap(d.mask) < x.Len() {
		d.mask = make([]float32, x.Len())
	}
	d.mask = d.mask[:x.Len()]
	keep := float32(1)
	if d.Scale {
		keep = float32(1 / (1 - d.P))
	}
	draw := func(g *rng.MT) {
		for i := range d.mask {
			if g.Uniform(0, 1) < d.P {
				d.mask[i] = 0
			} else {
				d.mask[i] = keep
			}
		}
	}
	if d.rng != nil {
		draw(d.rng)
	} else {
		rng.Global.Do(draw)
	}
	for i, v := range x.Data {
		d.output.Data[i] = v * d.mask[i]
	}
	return d.output
}

func (d *Dropout) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if gy.Len() != x.Len() {
		shapeError(d, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	d.gradIn = tensor.Ensure(d.gradIn, x.Shape...)
	if !d.training || d.P == 0 {
		copy(d.gradIn.Data, gy.Data)
		return d.gradIn
	}
	for i, g := range gy.Data {
		d.gradIn.Data[i] = g * d.mask[i]
	}
	return d.gradIn
}
