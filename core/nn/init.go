package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// InitMethod fills a parameter tensor when its layer is reset (BigDL's
// InitializationMethod). Random ones draw from g in the tensor's storage
// order, as BigDL's Tensor.rand and randn do.
type InitMethod interface {
	// Check reports whether the method can fill a parameter of this shape.
	Check(shape []int) error
	Init(v *tensor.Tensor, fanIn, fanOut int, g *rng.MT)
	Spec() map[string]any
}

// Initialized is a layer with parameters: it declares each parameter's
// fan-in and fan-out as BigDL computes them (the VariableFormat its reset
// passes), and draws its parameters with init methods it keeps.
type Initialized interface {
	Module
	Fans(p *Param) (fanIn, fanOut int)
	// SetInitMethods replaces the weight's and the bias's init method (a
	// nil one is kept) and redraws the parameters.
	SetInitMethods(weight, bias InitMethod) error
}

// BigDL's VariableFormats: the fan-in and fan-out of a parameter of a given
// shape, by the layout the layer keeps it in.

// FansOutIn is a (out, in) matrix, Linear's weight.
func FansOutIn(shape []int) (int, int) { return shape[1], shape[0] }

// FansOneD is a vector, a bias: the fan-in is its length, the fan-out 1.
func FansOneD(shape []int) (int, int) { return shape[0], 1 }

// FansOutInKwKh is an (out, in, kh, kw) convolution kernel, or BigDL's
// OUT_IN_KT_KH_KW, an (out, in, kt, kh, kw) one: the kernel's extent
// multiplies both fans.
func FansOutInKwKh(shape []int) (int, int) {
	r := 1
	for _, d := range shape[2:] {
		r *= d
	}
	return shape[1] * r, shape[0] * r
}

// FansGroupOutInKwKh is a (group, out/group, in/group, kh, kw) kernel,
// SpatialConvolution's weight: the group count multiplies both fans, so the
// fan-in is in·kh·kw (not divided by the groups).
func FansGroupOutInKwKh(shape []int) (int, int) {
	r := shape[0] * shape[3] * shape[4]
	return shape[2] * r, shape[1] * r
}

// FansGroupInOutKwKh is a (group, in/group, out/group, kh, kw) kernel, the
// layout of SpatialFullConvolution's weight.
func FansGroupInOutKwKh(shape []int) (int, int) {
	r := shape[0] * shape[3] * shape[4]
	return shape[1] * r, shape[2] * r
}

// FansDefault is any other layout: both fans are the element count.
func FansDefault(shape []int) (int, int) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n, n
}

// NewInitMethod builds an init method from its spec, {"class": "Xavier"}.
func NewInitMethod(spec map[string]any) (InitMethod, error) {
	class, _ := spec["class"].(string)
	a := NewArgs(class, spec)
	var m InitMethod
	switch class {
	case "Zeros":
		m = constInit{class: class, v: 0}
	case "Ones":
		m = constInit{class: class, v: 1}
	case "ConstInitMethod":
		m = constInit{class: class, v: a.Float("value", 0)}
	case "RandomUniform":
		if a.Has("upper") != a.Has("lower") {
			return nil, fmt.Errorf("RandomUniform: give both upper and lower, or neither (the fan-in rule)")
		}
		u := uniformInit{class: class, scale: func(in, _ int) float64 { return 1 / math.Sqrt(float64(in)) }}
		if a.Has("upper") {
			u.lower, u.upper, u.fixed = a.Float("lower", 0), a.Float("upper", 0), true
			if u.lower > u.upper {
				return nil, fmt.Errorf("RandomUniform: argument lower (%v) must not exceed upper (%v)", u.lower, u.upper)
			}
		}
		m = u
	case "RandomNormal":
		n := normalInit{class: class, mean: a.Float("mean", 0), stdv: a.Float("stdv", 1), fixed: true}
		if a.Err() == nil && !(n.stdv > 0) {
			return nil, fmt.Errorf("RandomNormal: argument stdv must be positive, got %v", n.stdv)
		}
		m = n
	case "Xavier":
		m = uniformInit{class: class, scale: func(in, out int) float64 { return math.Sqrt(6 / float64(in+out)) }}
	case "XavierNormal":
		m = normalInit{class: class, scale: func(in, out int) float64 { return math.Sqrt(2 / float64(in+out)) }}
	case "HeUniform":
		m = uniformInit{class: class, scale: func(in, _ int) float64 { return math.Sqrt(6 / float64(in)) }}
	case "HeNormal":
		m = normalInit{class: class, scale: func(in, _ int) float64 { return math.Sqrt(2 / float64(in)) }}
	case "LeCunUniform":
		m = uniformInit{class: class, scale: func(in, _ int) float64 { return math.Sqrt(3 / float64(in)) }}
	case "LeCunNormal":
		m = normalInit{class: class, scale: func(in, _ int) float64 { return math.Sqrt(1 / float64(in)) }}
	case "MsraFiller":
		avg := a.Bool("varianceNormAverage", true)
		// BigDL's n is the integer mean of the fans, or the fan-out.
		m = normalInit{class: class, args: map[string]any{"varianceNormAverage": avg}, scale: func(in, out int) float64 {
			n := out
			if avg {
				n = (in + out) / 2
			}
			return math.Sqrt(2 / float64(n))
		}}
	case "BilinearFiller":
		m = bilinearInit{}
	default:
		return nil, fmt.Errorf("unknown init method %q (init methods: Zeros, Ones, ConstInitMethod, RandomUniform, "+
			"RandomNormal, Xavier, XavierNormal, HeNormal, HeUniform, LeCunNormal, LeCunUniform, MsraFiller, BilinearFiller)", class)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

type constInit struct {
	class string
	v     float64
}

func (c constInit) Check([]int) error { return nil }
func (c constInit) Init(v *tensor.Tensor, _, _ int, _ *rng.MT) {
	for i := range v.Data {
		v.Data[i] = float32(c.v)
	}
}
func (c constInit) Spec() map[string]any {
	s := map[string]any{"class": c.class}
	if c.class == "ConstInitMethod" {
		s["value"] = c.v
	}
	return s
}

// uniformInit draws from U(lower, upper), or U(-s, s) with s from the fans.
type uniformInit struct {
	class        string
	lower, upper float64
	fixed        bool
	scale        func(fanIn, fanOut int) float64
}

func (u uniformInit) Check([]int) error { return nil }
func (u uniformInit) Init(v *tensor.Tensor, in, out int, g *rng.MT) {
	lo, hi := u.lower, u.upper
	if !u.fixed {
		s := u.scale(in, out)
		lo, hi = -s, s
	}
	for i := range v.Data {
		v.Data[i] = float32(g.Uniform(lo, hi))
	}
}
func (u uniformInit) Spec() map[string]any {
	s := map[string]any{"class": u.class}
	if u.fixed {
		s["lower"], s["upper"] = u.lower, u.upper
	}
	return s
}

// normalInit draws from N(mean, stdv²), or N(0, s²) with s from the fans.
type normalInit struct {
	class      string
	mean, stdv float64
	fixed      bool
	scale      func(fanIn, fanOut int) float64
	args       map[string]any
}

func (n normalInit) Check([]int) error { return nil }
func (n normalInit) Init(v *tensor.Tensor, in, out int, g *rng.MT) {
	mean, stdv := n.mean, n.stdv
	if !n.fixed {
		mean, stdv = 0, n.scale(in, out)
	}
	for i := range v.Data {
		v.Data[i] = float32(g.Normal(mean, stdv))
	}
}
func (n normalInit) Spec() map[string]any {
	s := map[string]any{"class": n.class}
	if n.fixed {
		s["mean"], s["stdv"] = n.mean, n.stdv
	}
	for k, v := range n.args {
		s[k] = v
	}
	return s
}

// bilinearInit fills a (group, in, out, kh, kw) deconvolution kernel with
// bilinear upsampling coefficients.
type bilinearInit struct{}

func (bilinearInit) Check(shape []int) error {
	if len(shape) != 5 || shape[3] != shape[4] {
		return fmt.Errorf("BilinearFiller fills a 5-D weight (group, in, out, kh, kw) with a square kernel, got shape %s",
			tensor.ShapeString(shape))
	}
	return nil
}
func (bilinearInit) Init(v *tensor.Tensor, _, _ int, _ *rng.MT) {
	kh, kw := v.Shape[3], v.Shape[4]
	f := int(math.Ceil(float64(kw) / 2))
	c := float32(2*f-1-f%2) / float32(2*f)
	ff := float32(f)
	for i := range v.Data {
		x, y := float32(i%kw), float32((i/kw)%kh)
		v.Data[i] = (1 - abs32(x/ff-c)) * (1 - abs32(y/ff-c))
	}
}
func (bilinearInit) Spec() map[string]any { return map[string]any{"class": "BilinearFiller"} }

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

// initMethods are the init methods of a layer with a weight and a bias.
type initMethods struct{ weight, bias InitMethod }

// draw redraws weight, then bias (BigDL's order), from the global generator.
func (m initMethods) draw(l Initialized, weight, bias *Param) {
	rng.Global.Do(func(g *rng.MT) {
		for _, p := range []struct {
			p *Param
			m InitMethod
		}{{weight, m.weight}, {bias, m.bias}} {
			if p.p != nil {
				in, out := l.Fans(p.p)
				p.m.Init(p.p.Value, in, out, g)
			}
		}
	})
}

// set replaces the non-nil methods once each fits its parameter.
func (m *initMethods) set(l Initialized, weight, bias *Param, w, b InitMethod) error {
	for _, c := range []struct {
		p    *Param
		m    InitMethod
		what string
	}{{weight, w, "weight_init_method"}, {bias, b, "bias_init_method"}} {
		if c.m == nil || c.p == nil {
			continue
		}
		if err := c.m.Check(c.p.Value.Shape); err != nil {
			return fmt.Errorf("%s: %s: %w", l.String(), c.what, err)
		}
	}
	if w != nil {
		m.weight = w
	}
	if b != nil {
		m.bias = b
	}
	return nil
}

// SetInitMethods sets m's init methods from their specs (nil keeps one) and
// redraws m's parameters; a module without parameters is refused.
func SetInitMethods(m Module, weight, bias map[string]any) error {
	l, ok := m.(Initialized)
	if !ok {
		return fmt.Errorf("set_init_method: %s has no parameters to initialise", m.String())
	}
	var w, b InitMethod
	var err error
	if weight != nil {
		if w, err = NewInitMethod(weight); err != nil {
			return fmt.Errorf("set_init_method: weight_init_method: %w", err)
		}
	}
	if bias != nil {
		if b, err = NewInitMethod(bias); err != nil {
			return fmt.Errorf("set_init_method: bias_init_method: %w", err)
		}
	}
	return l.SetInitMethods(w, b)
}
