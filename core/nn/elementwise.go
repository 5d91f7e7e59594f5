package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// The element-wise layers of BigDL's §3.5 without parameters, one table row
// each: f computes an output element in float64 (so float32 results round
// once), df its derivative from the input x and output y. Each row reads its
// constructor arguments once and closes over them.
type ewRow struct {
	class string
	build func(a *Args) (config map[string]any, f func(x float64) float64, df func(x, y float64) float64, err error)
}

func f32(f func(float64) float64) func(float32) float32 {
	return func(x float32) float32 { return float32(f(float64(x))) }
}

func f32d(df func(x, y float64) float64) func(x, y float32) float32 {
	return func(x, y float32) float32 { return float32(df(float64(x), float64(y))) }
}

// step is 1 where cond holds: the derivative of the piecewise-linear layers.
func step(cond bool) float64 {
	if cond {
		return 1
	}
	return 0
}

// softplus is log(1 + e^x), exact for large |x| where the naive form overflows or rounds to 0.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

type ewF = func(float64) float64
type ewDF = func(x, y float64) float64

func clampLayer(class, minName, maxName string, defMin, defMax float64, extra ...string) ewRow {
	return ewRow{class, func(a *Args) (map[string]any, ewF, ewDF, error) {
		lo, hi := a.Float(minName, defMin), a.Float(maxName, defMax)
		if class == "Clamp" && (!a.Has(minName) || !a.Has(maxName)) {
			return nil, nil, nil, fmt.Errorf("Clamp: arguments min and max are required")
		}
		if lo > hi {
			return nil, nil, nil, fmt.Errorf("%s: argument %s (%v) must not exceed %s (%v)", class, minName, lo, maxName, hi)
		}
		cfg := map[string]any{minName: lo, maxName: hi}
		for _, e := range extra {
			cfg[e] = a.Bool(e, false)
		}
		return cfg, func(x float64) float64 { return min(max(x, lo), hi) },
			func(x, _ float64) float64 { return step(x > lo && x < hi) }, nil
	}}
}

var elementwiseRows = []ewRow{
	{"Threshold", func(a *Args) (map[string]any, ewF, ewDF, error) {
		th, v := a.Float("th", 1e-6), a.Float("v", 0)
		return map[string]any{"th": th, "v": v, "ip": a.Bool("ip", false)},
			func(x float64) float64 {
				if x > th {
					return x
				}
				return v
			}, func(x, _ float64) float64 { return step(x > th) }, nil
	}},
	{"BinaryThreshold", func(a *Args) (map[string]any, ewF, ewDF, error) {
		th := a.Float("th", 1e-6)
		// A step function: its gradient is zero everywhere it exists (BigDL's too).
		return map[string]any{"th": th, "ip": a.Bool("ip", false)},
			func(x float64) float64 { return step(x > th) }, func(_, _ float64) float64 { return 0 }, nil
	}},
	{"ELU", func(a *Args) (map[string]any, ewF, ewDF, error) {
		alpha := a.Float("alpha", 1)
		return map[string]any{"alpha": alpha, "inplace": a.Bool("inplace", false)},
			func(x float64) float64 {
				if x > 0 {
					return x
				}
				return alpha * math.Expm1(x)
			}, func(x, y float64) float64 {
				if x > 0 {
					return 1
				}
				return y + alpha
			}, nil
	}},
	{"LeakyReLU", func(a *Args) (map[string]any, ewF, ewDF, error) {
		neg := a.Float("negval", 0.01)
		return map[string]any{"negval": neg, "inplace": a.Bool("inplace", false)},
			func(x float64) float64 {
				if x > 0 {
					return x
				}
				return neg * x
			}, func(x, _ float64) float64 {
				if x > 0 {
					return 1
				}
				return neg
			}, nil
	}},
	clampLayer("ReLU6", "", "", 0, 6, "inplace"),
	clampLayer("HardTanh", "min_value", "max_value", -1, 1, "inplace"),
	clampLayer("Clamp", "min", "max", 0, 0),
	{"SoftPlus", func(a *Args) (map[string]any, ewF, ewDF, error) {
		beta := a.Float("beta", 1)
		if beta == 0 {
			return nil, nil, nil, fmt.Errorf("SoftPlus: argument beta must not be 0")
		}
		// BigDL returns x itself once beta·x > 20, where log(1+e^(βx))/β equals x in float32.
		return map[string]any{"beta": beta},
			func(x float64) float64 {
				if x*beta > softPlusThreshold {
					return x
				}
				return softplus(x*beta) / beta
			}, func(x, _ float64) float64 {
				if x*beta > softPlusThreshold {
					return 1
				}
				return 1 / (1 + math.Exp(-x*beta))
			}, nil
	}},
	{"SoftSign", func(a *Args) (map[string]any, ewF, ewDF, error) {
		return map[string]any{}, func(x float64) float64 { return x / (1 + math.Abs(x)) },
			func(x, _ float64) float64 { d := 1 + math.Abs(x); return 1 / (d * d) }, nil
	}},
	{"SoftShrink", func(a *Args) (map[string]any, ewF, ewDF, error) {
		l := a.Float("the_lambda", 0.5)
		return map[string]any{"the_lambda": l}, func(x float64) float64 {
			switch {
			case x > l:
				return x - l
			case x < -l:
				return x + l
			}
			return 0
		}, func(x, _ float64) float64 { return step(x > l || x < -l) }, nil
	}},
	{"HardShrink", func(a *Args) (map[string]any, ewF, ewDF, error) {
		l := a.Float("the_lambda", 0.5)
		return map[string]any{"the_lambda": l}, func(x float64) float64 {
			if x > l || x < -l {
				return x
			}
			return 0
		}, func(x, _ float64) float64 { return step(x > l || x < -l) }, nil
	}},
	{"HardSigmoid", func(a *Args) (map[string]any, ewF, ewDF, error) {
		return map[string]any{}, func(x float64) float64 {
			switch {
			case x > 2.5:
				return 1
			case x < -2.5:
				return 0
			}
			return 0.2*x + 0.5
		}, func(x, _ float64) float64 { return 0.2 * step(x >= -2.5 && x <= 2.5) }, nil
	}},
	{"LogSigmoid", func(a *Args) (map[string]any, ewF, ewDF, error) {
		return map[string]any{}, func(x float64) float64 { return -softplus(-x) },
			func(x, _ float64) float64 { return 1 / (1 + math.Exp(x)) }, nil
	}},
	{"TanhShrink", func(a *Args) (map[string]any, ewF, ewDF, error) {
		return map[string]any{}, func(x float64) float64 { return x - math.Tanh(x) },
			func(x, _ float64) float64 { t := math.Tanh(x); return t * t }, nil
	}},
	{"Abs", func(a *Args) (map[string]any, ewF, ewDF, error) {
		return map[string]any{}, math.Abs, func(x, _ float64) float64 { return step(x > 0) - step(x < 0) }, nil
	}},
	{"Exp", func(a *Args) (map[string]any, ewF, ewDF, error) {
		return map[string]any{}, math.Exp, func(x, y float64) float64 { return y }, nil
	}},
	{"Log", func(a *Args) (map[string]any, ewF, ewDF, error) {
		return map[string]any{}, math.Log, func(x, _ float64) float64 { return 1 / x }, nil
	}},
	{"Sqrt", func(a *Args) (map[string]any, ewF, ewDF, error) {
		return map[string]any{}, math.Sqrt, func(x, y float64) float64 { return 0.5 / y }, nil
	}},
	{"Square", func(a *Args) (map[string]any, ewF, ewDF, error) {
		return map[string]any{}, func(x float64) float64 { return x * x }, func(x, _ float64) float64 { return 2 * x }, nil
	}},
	{"Power", func(a *Args) (map[string]any, ewF, ewDF, error) {
		if !a.Has("power") {
			return nil, nil, nil, fmt.Errorf("Power: argument power is required")
		}
		p, s, sh := a.Float("power", 1), a.Float("scale", 1), a.Float("shift", 0)
		return map[string]any{"power": p, "scale": s, "shift": sh},
			func(x float64) float64 { return math.Pow(sh+s*x, p) },
			func(x, _ float64) float64 { return p * s * math.Pow(sh+s*x, p-1) }, nil
	}},
	{"MulConstant", func(a *Args) (map[string]any, ewF, ewDF, error) {
		if !a.Has("scalar") {
			return nil, nil, nil, fmt.Errorf("MulConstant: argument scalar is required")
		}
		c := a.Float("scalar", 1)
		return map[string]any{"scalar": c, "inplace": a.Bool("inplace", false)},
			func(x float64) float64 { return x * c }, func(_, _ float64) float64 { return c }, nil
	}},
	{"AddConstant", func(a *Args) (map[string]any, ewF, ewDF, error) {
		if !a.Has("constant_scalar") {
			return nil, nil, nil, fmt.Errorf("AddConstant: argument constant_scalar is required")
		}
		c := a.Float("constant_scalar", 0)
		return map[string]any{"constant_scalar": c, "inplace": a.Bool("inplace", false)},
			func(x float64) float64 { return x + c }, func(_, _ float64) float64 { return 1 }, nil
	}},
	{"Negative", func(a *Args) (map[string]any, ewF, ewDF, error) {
		return map[string]any{"inplace": a.Bool("inplace", false)},
			func(x float64) float64 { return -x }, func(_, _ float64) float64 { return -1 }, nil
	}},
	{"GradientReversal", func(a *Args) (map[string]any, ewF, ewDF, error) {
		l := a.Float("the_lambda", 1)
		return map[string]any{"the_lambda": l},
			func(x float64) float64 { return x }, func(_, _ float64) float64 { return -l }, nil
	}},
}

func init() {
	for _, r := range elementwiseRows {
		Register(r.class, func(a *Args) (Module, error) {
			cfg, f, df, err := r.build(a)
			if err != nil || a.Err() != nil {
				return nil, err
			}
			if cfg[""] != nil {
				delete(cfg, "")
			}
			e := newElementwise(r.class, cfg, f32(f), f32d(df))
			if fns := fastSlices(r.class, cfg); fns != nil {
				return fastElementwise{e, fns}, nil
			}
			return e, nil
		})
	}
}

// sliceFns are a row's forward and backward on whole slices, on the vector
// kernels: the activations networks train with run without a function call
// per element. Each matches its row's f and df (TestFastSlicesMatchTheirRows).
type sliceFns struct {
	fwd func(y, x []float32)
	bwd func(g, gy, x, y []float32)
}

func cfgF32(cfg map[string]any, k string) float32 { return float32(cfg[k].(float64)) }

// piecewiseSlices runs a piecewise-linear row on kernels.PiecewiseLinear.
func piecewiseSlices(f kernels.Piecewise, df kernels.PiecewiseGrad) *sliceFns {
	return &sliceFns{
		fwd: func(y, x []float32) { kernels.PiecewiseLinear(y, x, &f) },
		bwd: func(g, gy, x, _ []float32) { kernels.PiecewiseBackward(g, gy, x, &df) },
	}
}

// clampSlices is x clamped to [lo, hi], gradient 1 strictly inside.
func clampSlices(lo, hi float32) *sliceFns {
	return piecewiseSlices(
		kernels.Piecewise{Lo: lo, Hi: hi, Below: kernels.Line{Intercept: lo}, Inside: kernels.Line{Slope: 1},
			Above: kernels.Line{Intercept: hi}, NaN: nan32},
		kernels.PiecewiseGrad{Lo: lo, Hi: hi, Inside: 1})
}

// affineSlices is a·x + b, gradient da (a, or −λ for GradientReversal).
func affineSlices(a, b, da float32) *sliceFns {
	inf := float32(math.Inf(1))
	return piecewiseSlices(
		kernels.Piecewise{Lo: -inf, Hi: inf, Inside: kernels.Line{Slope: a, Intercept: b}, NaN: nan32},
		kernels.PiecewiseGrad{Lo: -inf, Hi: inf, Below: da, Ends: da, Inside: da, Above: da, NaN: da})
}

// shrinkSlices is HardShrink (soft false: x outside [-l, l], else 0) or
// SoftShrink (x moved l towards 0 outside, else 0); NaN gives 0 as the rows do.
func shrinkSlices(l float32, soft bool) *sliceFns {
	below, above := kernels.Line{Slope: 1}, kernels.Line{Slope: 1}
	if soft {
		below.Intercept, above.Intercept = l, -l
	}
	return piecewiseSlices(kernels.Piecewise{Lo: -l, Hi: l, Below: below, Above: above},
		kernels.PiecewiseGrad{Lo: -l, Hi: l, Below: 1, Above: 1})
}

var nan32 = float32(math.NaN())

const softPlusThreshold = 20 // BigDL's: beyond beta·x = 20, SoftPlus is x

func fastSlices(class string, cfg map[string]any) *sliceFns {
	switch class {
	case "Threshold":
		th, v := cfgF32(cfg, "th"), cfgF32(cfg, "v")
		return piecewiseSlices(
			kernels.Piecewise{Lo: th, Hi: th, Below: kernels.Line{Intercept: v}, Inside: kernels.Line{Intercept: v},
				Above: kernels.Line{Slope: 1}, NaN: v},
			kernels.PiecewiseGrad{Lo: th, Hi: th, Above: 1})
	case "BinaryThreshold":
		th := cfgF32(cfg, "th")
		return piecewiseSlices(kernels.Piecewise{Lo: th, Hi: th, Above: kernels.Line{Intercept: 1}},
			kernels.PiecewiseGrad{Lo: th, Hi: th})
	case "LeakyReLU":
		neg := cfgF32(cfg, "negval")
		return piecewiseSlices(
			kernels.Piecewise{Below: kernels.Line{Slope: neg}, Inside: kernels.Line{Slope: neg},
				Above: kernels.Line{Slope: 1}, NaN: nan32},
			kernels.PiecewiseGrad{Below: neg, Ends: neg, Above: 1, NaN: neg})
	case "ReLU6":
		return clampSlices(0, 6)
	case "HardTanh":
		return clampSlices(cfgF32(cfg, "min_value"), cfgF32(cfg, "max_value"))
	case "Clamp":
		return clampSlices(cfgF32(cfg, "min"), cfgF32(cfg, "max"))
	case "HardShrink":
		return shrinkSlices(cfgF32(cfg, "the_lambda"), false)
	case "SoftShrink":
		return shrinkSlices(cfgF32(cfg, "the_lambda"), true)
	case "HardSigmoid":
		// The bounds of the forward pieces sit one float32 inside ±2.5, so
		// that ±2.5 give exactly 0 and 1 (0.2·x + 0.5 rounds to ±7e-9 there).
		return piecewiseSlices(
			kernels.Piecewise{Lo: math.Nextafter32(-2.5, 0), Hi: math.Nextafter32(2.5, 0),
				Inside: kernels.Line{Slope: 0.2, Intercept: 0.5}, Above: kernels.Line{Intercept: 1}, NaN: nan32},
			kernels.PiecewiseGrad{Lo: -2.5, Hi: 2.5, Ends: 0.2, Inside: 0.2})
	case "Abs":
		return piecewiseSlices(
			kernels.Piecewise{Below: kernels.Line{Slope: -1}, Above: kernels.Line{Slope: 1}, NaN: nan32},
			kernels.PiecewiseGrad{Below: -1, Above: 1})
	case "MulConstant":
		c := cfgF32(cfg, "scalar")
		return affineSlices(c, 0, c)
	case "AddConstant":
		return affineSlices(1, cfgF32(cfg, "constant_scalar"), 1)
	case "Negative":
		return affineSlices(-1, 0, -1)
	case "GradientReversal":
		return affineSlices(1, 0, -cfgF32(cfg, "the_lambda"))
	case "ELU":
		alpha := cfgF32(cfg, "alpha")
		return &sliceFns{
			fwd: func(y, x []float32) { kernels.ELU(y, x, alpha) },
			bwd: func(g, gy, x, y []float32) { kernels.ELUBackward(g, gy, x, y, alpha) },
		}
	case "SoftPlus":
		beta := cfgF32(cfg, "beta")
		return &sliceFns{
			fwd: func(y, x []float32) { kernels.SoftPlus(y, x, beta, softPlusThreshold) },
			bwd: func(g, gy, x, _ []float32) { kernels.SoftPlusBackward(g, gy, x, beta, softPlusThreshold) },
		}
	case "LogSigmoid":
		return &sliceFns{
			fwd: kernels.LogSigmoid,
			bwd: func(g, gy, x, _ []float32) { kernels.LogSigmoidBackward(g, gy, x) },
		}
	case "SoftSign":
		return &sliceFns{
			fwd: kernels.SoftSign,
			bwd: func(g, gy, x, _ []float32) { kernels.SoftSignBackward(g, gy, x) },
		}
	case "Exp":
		return &sliceFns{
			fwd: kernels.Exp,
			bwd: func(g, gy, _, y []float32) { kernels.Mul(g, gy, y) },
		}
	case "Log":
		return &sliceFns{
			fwd: kernels.Log,
			bwd: func(g, gy, x, _ []float32) { kernels.Div(g, gy, x) },
		}
	case "Sqrt":
		return &sliceFns{
			fwd: kernels.Sqrt,
			bwd: func(g, gy, _, y []float32) { kernels.SqrtBackward(g, gy, y) },
		}
	case "Square":
		return &sliceFns{
			fwd: func(y, x []float32) { kernels.Mul(y, x, x) },
			bwd: func(g, gy, x, _ []float32) {
				kernels.Mul(g, gy, x)
				kernels.Scale(2, g)
			},
		}
	}
	return nil
}

// fastElementwise runs an elementwise row on its slice loops.
type fastElementwise struct {
	*elementwise
	fns *sliceFns
}

func (e fastElementwise) Forward(x *tensor.Tensor) *tensor.Tensor {
	e.output = tensor.Ensure(e.output, x.Shape...)
	e.fns.fwd(e.output.Data, x.Data)
	return e.output
}

func (e fastElementwise) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if gy.Len() != x.Len() {
		shapeError(e, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	e.gradIn = tensor.Ensure(e.gradIn, x.Shape...)
	e.fns.bwd(e.gradIn.Data, gy.Data, x.Data, e.output.Data)
	return e.gradIn
}
