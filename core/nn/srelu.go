package nn

import (
	"fmt"
	"strings"

	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

func init() {
	Register("SReLU", func(a *Args) (Module, error) {
		shape, axes := a.Ints("input_shape"), a.Ints("share_axes")
		if a.Err() != nil {
			return nil, a.Err()
		}
		if len(shape) == 0 {
			return nil, fmt.Errorf("SReLU: argument input_shape must be a non-empty list of positive sizes")
		}
		pshape := append([]int{}, shape...)
		for _, d := range shape {
			if d < 1 {
				return nil, fmt.Errorf("SReLU: argument input_shape must be a list of positive sizes, got %v", shape)
			}
		}
		for _, ax := range axes {
			if ax < 1 || ax > len(shape) {
				return nil, fmt.Errorf("SReLU: share_axes %v must be 1-based dimensions of input_shape %v", axes, shape)
			}
			pshape[ax-1] = 1
		}
		return newSReLU(shape, axes, pshape), nil
	})
}

// SReLU is the S-shaped ReLU: x between the learned thresholds tl and tr,
// continued by lines of learned slopes al below tl and ar above tr; each of
// the four parameters has the sample's shape (1 along share_axes). BigDL
// initialises tl = 0, al and tr Xavier (then tr = |tr| + tl), ar = 1.
type SReLU struct {
	Base
	Shape, Axes []int
	// tLeft, aLeft, tRight, aRight, BigDL's order.
	params [4]*Param
	idx    []int32 // sample element -> parameter element
	output *tensor.Tensor
	gradIn *tensor.Tensor
}

func newSReLU(shape, axes, pshape []int) *SReLU {
	s := &SReLU{Base: newBase("SReLU"), Shape: shape, Axes: axes}
	for i, n := range []string{"tLeft", "aLeft", "tRight", "aRight"} {
		s.params[i] = newParam(n, pshape...)
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	s.idx = make([]int32, n)
	for i := range s.idx {
		rem, k, stride := i, 0, 1
		for d := len(shape) - 1; d >= 0; d-- {
			c := rem % shape[d]
			rem /= shape[d]
			if pshape[d] != 1 {
				k += c * stride
			}
			stride *= pshape[d]
		}
		s.idx[i] = int32(k)
	}
	s.Reset()
	return s
}

func (s *SReLU) Params() []*Param { return s.params[:] }
func (s *SReLU) overwritesGrads() {}
func (s *SReLU) Config() map[string]any {
	return map[string]any{"input_shape": s.Shape, "share_axes": s.Axes}
}
func (s *SReLU) String() string {
	return fmt.Sprintf("SReLU[%s](%s)", s.name, tensor.ShapeString(s.Shape))
}

// fans follow BigDL's VariableFormat for the parameter's rank.
func (s *SReLU) fans(shape []int) (int, int) {
	switch len(shape) {
	case 2:
		return shape[0], shape[1] // IN_OUT
	case 4:
		return FansOutInKwKh(shape)
	}
	return FansDefault(shape)
}

func (s *SReLU) Reset() {
	xavier, _ := NewInitMethod(map[string]any{"class": "Xavier"})
	rng.Global.Do(func(g *rng.MT) {
		for i, p := range s.params {
			in, out := s.fans(p.Value.Shape)
			switch i {
			case 0:
				p.Value.Zero()
			case 3:
				for j := range p.Value.Data {
					p.Value.Data[j] = 1
				}
			default:
				xavier.Init(p.Value, in, out, g)
			}
		}
	})
	tl, tr := s.params[0].Value.Data, s.params[2].Value.Data
	for i := range tr {
		tr[i] = abs32(tr[i]) + tl[i]
	}
}

func (s *SReLU) check(x *tensor.Tensor) {
	if x.Dims() != len(s.Shape)+1 || !tensor.SameShape(x.Shape[1:], s.Shape) {
		inner := strings.TrimSuffix(strings.TrimSuffix(tensor.ShapeString(s.Shape)[1:], ")"), ",")
		shapeError(s, "shape (batch, "+inner+")", x.Shape)
	}
}

func (s *SReLU) Forward(x *tensor.Tensor) *tensor.Tensor {
	s.check(x)
	s.output = tensor.Ensure(s.output, x.Shape...)
	tl, al, tr, ar := s.params[0].Value.Data, s.params[1].Value.Data, s.params[2].Value.Data, s.params[3].Value.Data
	n := len(s.idx)
	for i, v := range x.Data {
		k := s.idx[i%n]
		switch {
		case v >= tr[k]:
			s.output.Data[i] = tr[k] + ar[k]*(v-tr[k])
		case v <= tl[k]:
			s.output.Data[i] = tl[k] + al[k]*(v-tl[k])
		default:
			s.output.Data[i] = v
		}
	}
	return s.output
}

func (s *SReLU) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	s.check(x)
	if gy.Len() != x.Len() {
		shapeError(s, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	s.gradIn = tensor.Ensure(s.gradIn, x.Shape...)
	tl, al, tr, ar := s.params[0].Value.Data, s.params[1].Value.Data, s.params[2].Value.Data, s.params[3].Value.Data
	gtl, gal, gtr, gar := s.params[0].Grad.Data, s.params[1].Grad.Data, s.params[2].Grad.Data, s.params[3].Grad.Data
	update := !s.frozen
	if update && s.gradsOverwritten {
		for _, p := range s.params {
			clear(p.Grad.Data)
		}
	}
	n := len(s.idx)
	for i, v := range x.Data {
		k, g := s.idx[i%n], gy.Data[i]
		switch {
		case v >= tr[k]:
			s.gradIn.Data[i] = g * ar[k]
			if update {
				gtr[k] += g * (1 - ar[k])
				gar[k] += g * (v - tr[k])
			}
		case v <= tl[k]:
			s.gradIn.Data[i] = g * al[k]
			if update {
				gtl[k] += g * (1 - al[k])
				gal[k] += g * (v - tl[k])
			}
		default:
			s.gradIn.Data[i] = g
		}
	}
	return s.gradIn
}
